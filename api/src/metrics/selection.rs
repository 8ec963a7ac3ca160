//! Which rows of the analytics tables a load reads: all of them, or those of the releases,
//! incidents and deliveries the change feed named.

use crate::db::id_list;

/// Which rows to read.
#[derive(Debug, Clone, Copy)]
pub enum Selection<'a> {
    All,
    /// Everything that belongs to these releases, these incidents and these deliveries.
    Only {
        releases: &'a [i64],
        incidents: &'a [i64],
        deliveries: &'a [i64],
    },
}

impl Selection<'_> {
    /// A condition on `column` holding a release id.
    pub fn releases(&self, column: &str) -> String {
        match self {
            Self::All => "1 = 1".into(),
            Self::Only { releases, .. } => {
                format!("{column} IN ({})", id_list(releases.iter().copied()))
            }
        }
    }

    /// A condition on `column` holding a gate id: the gates of the releases.
    pub fn gates(&self, column: &str) -> String {
        match self {
            Self::All => "1 = 1".into(),
            Self::Only { .. } => format!(
                "{column} IN (SELECT id FROM quality_gates WHERE {})",
                self.releases("release_id")
            ),
        }
    }

    /// A condition on `column` holding a delivery id.
    pub fn deliveries(&self, column: &str) -> String {
        match self {
            Self::All => "1 = 1".into(),
            Self::Only { deliveries, .. } => {
                format!("{column} IN ({})", id_list(deliveries.iter().copied()))
            }
        }
    }

    /// A condition on `id` holding an incident id and `release` its release: the incidents,
    /// and those of the releases.
    pub fn incidents(&self, id: &str, release: &str) -> String {
        match self {
            Self::All => "1 = 1".into(),
            Self::Only { incidents, .. } => format!(
                "({} OR {id} IN ({}))",
                self.releases(release),
                id_list(incidents.iter().copied())
            ),
        }
    }
}
