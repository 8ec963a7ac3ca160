//! Each analytics table declared once: where its rows come from, which of them a partial
//! load reads, what they name that must have been read with them, and each column's kind
//! and SQL expression. The query, the decoding of rows (sqlx and binary COPY alike) and the
//! table's part of the snapshot are generated from the declaration, so a column is one line
//! here, which the compiler holds to the field of the analytics struct it fills.
//!
//! A value derived from others is derived once, in its column's SQL (`ingested`) or in
//! analytics (a deployment's tier, from its environment; a release's EMERGENCY type).

use std::io::{Read, Write};

use analytics::{DeploymentStatus, GateStatus, ReleaseStatus, ReleaseType, Severity, Tables, Tier};
use sea_orm::DbErr;

use super::codec::{Reader, Writer};
use super::columns::{Code, DateOrNull, Flag, Int, IntOrNull, Kind, Text};
use super::rows::Row;
use super::selection::Selection;
use crate::queries::derived;

/// One analytics table as the database holds it. A declaration gives the constants,
/// [`Table::selected`] and [`Table::refs`]; [`columns!`] generates the items from
/// [`Table::COLUMNS`] to [`Table::load`].
pub(super) trait Table: Default + Send + 'static {
    /// The table the rows are read from.
    const FROM: &'static str;
    /// Whether PostgreSQL's estimate of the rows of [`Table::FROM`] sizes the columns of a
    /// full load: not when the rows read are a small share of them (they would keep room
    /// for the rest).
    const SIZED: bool = true;

    /// The rows of `selection`, as an SQL condition.
    fn selected(selection: &Selection<'_>) -> String;

    /// What the rows name in other tables.
    fn refs(&self) -> Refs<'_> {
        Refs::default()
    }

    /// The SQL expression of each column, in the order of the fields.
    const COLUMNS: &'static [&'static str];

    /// Each column's name and kind.
    fn layout() -> String;

    /// No rows, with room for `rows` in each column.
    fn with_capacity(rows: usize) -> Self;

    /// Appends `row`, whose values are in the order of [`Table::COLUMNS`].
    fn push(&mut self, row: &mut dyn Row) -> Result<(), DbErr>;

    fn rows(&self) -> usize;

    /// Keeps the rows whose flag in `kept` is set.
    fn retain(&mut self, kept: &[bool]);

    fn store(&self, out: &mut Writer<impl Write>) -> std::io::Result<()>;

    fn load(input: &mut Reader<impl Read>, rows: usize) -> std::io::Result<Self>;

    /// The query of the rows of `selection`.
    fn select(selection: &Selection<'_>) -> String {
        format!(
            "SELECT {} FROM {} WHERE {}",
            Self::COLUMNS.join(", "),
            Self::FROM,
            Self::selected(selection)
        )
    }
}

/// The ids a table's rows name in other tables, each checked against what was read: the
/// tables are read by separate statements, which can see a row whose release (or gate, or
/// environment) committed after its own table was read.
#[derive(Default)]
pub(super) struct Refs<'a> {
    /// A row of a release that was not read is left out: the release's change comes after
    /// the watermark the cache read first, so the next refresh reads it, whole.
    pub release: Option<&'a [i64]>,
    /// A row of a gate that was not read is left out, as for releases.
    pub gate: Option<&'a [i64]>,
    /// A row of an environment that was not read fails the load, as it cannot be given its
    /// tier; the next load reads the environment.
    pub environment: Option<&'a [i64]>,
}

impl<'a> Refs<'a> {
    /// Rows that name their release in `release`.
    fn of_release(release: &'a [i64]) -> Self {
        Self {
            release: Some(release),
            ..Self::default()
        }
    }
}

/// The column items of [`Table`] from the columns of an analytics struct, each
/// `field: Kind = "SQL expression"`: every field of the struct, or it does not compile.
macro_rules! columns {
    ($($column:ident: $kind:ty = $sql:literal),+ $(,)?) => {
        const COLUMNS: &'static [&'static str] = &[$($sql),+];

        fn layout() -> String {
            [$(format!("{} {}", stringify!($column), <$kind as Kind>::layout())),+].join(", ")
        }

        fn with_capacity(rows: usize) -> Self {
            Self { $($column: Vec::with_capacity(rows)),+ }
        }

        fn push(&mut self, row: &mut dyn Row) -> Result<(), DbErr> {
            $(self.$column.push(<$kind as Kind>::decode(row)?);)+
            Ok(())
        }

        fn rows(&self) -> usize {
            [$(self.$column.len()),+].into_iter().max().unwrap_or(0)
        }

        fn retain(&mut self, kept: &[bool]) {
            $(retain(&mut self.$column, kept);)+
        }

        fn store(&self, out: &mut Writer<impl Write>) -> std::io::Result<()> {
            $(<$kind as Kind>::store(&self.$column, out)?;)+
            Ok(())
        }

        fn load(input: &mut Reader<impl Read>, rows: usize) -> std::io::Result<Self> {
            Ok(Self { $($column: <$kind as Kind>::load(input, rows)?),+ })
        }
    };
}

/// Keeps the values whose flag in `kept` is set.
fn retain<T>(values: &mut Vec<T>, kept: &[bool]) {
    let mut flags = kept.iter();
    values.retain(|_| flags.next().copied().unwrap_or(false));
}

/// Runs `$body` with `$table` bound to each table of `$tables` (`&Tables` or `&mut Tables`)
/// in turn: the one list of the tables, in the snapshot's order.
macro_rules! each {
    ($tables:expr, |$table:ident| $body:expr) => {
        $crate::metrics::tables::each!(@list $tables, $table, $body;
            releases environments teams deployments items incidents gates gate_results
            outcomes actions overrides unplanned entries)
    };
    (@list $tables:expr, $table:ident, $body:expr; $($name:ident)+) => {{
        let analytics::Tables { $($name),+ } = $tables;
        $({
            let $table = $name;
            $body
        })+
    }};
}
pub(super) use each;

/// How many tables there are.
pub(super) fn count() -> usize {
    let mut count = 0;
    each!(&Tables::default(), |_table| count += 1);
    count
}

/// The layout of every table, which a snapshot must have been written with.
pub(super) fn layout() -> String {
    let mut layout = Vec::new();
    each!(&Tables::default(), |table| layout.push(layout_of(table)));
    layout.join("; ")
}

fn layout_of<T: Table>(_: &T) -> String {
    format!("{} ({})", T::FROM, T::layout())
}

impl Table for analytics::Releases {
    const FROM: &'static str = "releases";

    fn selected(s: &Selection<'_>) -> String {
        s.releases("id")
    }

    columns! {
        id: Int = "id",
        program: Int = "program_id",
        planned_end: IntOrNull = "planned_end",
        kind: Code<ReleaseType> = "type",
        created_at: Int = "created_at",
    }
}

impl Table for analytics::Environments {
    const FROM: &'static str = "environments";

    /// All of them, always: rows of any environment may be read.
    fn selected(_: &Selection<'_>) -> String {
        "1 = 1".into()
    }

    columns! {
        id: Int = "id",
        tier: Code<Tier> = "tier",
    }
}

impl Table for analytics::Teams {
    const FROM: &'static str = "release_parties";

    fn selected(s: &Selection<'_>) -> String {
        format!("role = 'TEAM' AND {}", s.releases("release_id"))
    }

    fn refs(&self) -> Refs<'_> {
        Refs::of_release(&self.release)
    }

    columns! {
        release: Int = "release_id",
        team: Text = "name",
    }
}

impl Table for analytics::Deployments {
    const FROM: &'static str = "deployments";

    fn selected(s: &Selection<'_>) -> String {
        s.releases("release_id")
    }

    fn refs(&self) -> Refs<'_> {
        Refs {
            environment: Some(&self.environment),
            ..Refs::of_release(&self.release)
        }
    }

    columns! {
        id: Int = "id",
        release: Int = "release_id",
        environment: Int = "environment_id",
        status: Code<DeploymentStatus> = "status",
        rollback: Flag = "is_rollback",
        finished_at: IntOrNull = "finished_at",
        ingested: Flag = "source_id IS NOT NULL",
    }
}

impl Table for analytics::Items {
    const FROM: &'static str = "release_items";

    fn selected(s: &Selection<'_>) -> String {
        s.releases("release_id")
    }

    fn refs(&self) -> Refs<'_> {
        Refs::of_release(&self.release)
    }

    columns! {
        release: Int = "release_id",
        committed_at: IntOrNull = "committed_at",
    }
}

impl Table for analytics::Incidents {
    const FROM: &'static str = "incidents";

    /// An incident counts by its own program, so it is kept whether or not its release was
    /// read.
    fn selected(s: &Selection<'_>) -> String {
        s.incidents("id", "release_id")
    }

    columns! {
        id: Int = "id",
        program: Int = "program_id",
        release: IntOrNull = "release_id",
        deployment: IntOrNull = "deployment_id",
        caused_by_change: Flag = "caused_by_change",
        severity: Code<Severity> = "severity",
        opened_at: Int = "opened_at",
        resolved_at: IntOrNull = "resolved_at",
    }
}

impl Table for analytics::Gates {
    const FROM: &'static str = "quality_gates";

    fn selected(s: &Selection<'_>) -> String {
        s.releases("release_id")
    }

    fn refs(&self) -> Refs<'_> {
        Refs::of_release(&self.release)
    }

    columns! {
        id: Int = "id",
        release: Int = "release_id",
    }
}

impl Table for analytics::GateResults {
    const FROM: &'static str = "gate_results";

    fn selected(s: &Selection<'_>) -> String {
        s.gates("gate_id")
    }

    fn refs(&self) -> Refs<'_> {
        Refs {
            gate: Some(&self.gate),
            ..Refs::default()
        }
    }

    columns! {
        id: Int = "id",
        gate: Int = "gate_id",
        status: Code<GateStatus> = "status",
        checked_at: Int = "checked_at",
    }
}

impl Table for analytics::Outcomes {
    const FROM: &'static str = "outcomes";

    fn selected(s: &Selection<'_>) -> String {
        s.releases("release_id")
    }

    fn refs(&self) -> Refs<'_> {
        Refs::of_release(&self.release)
    }

    columns! {
        release: Int = "release_id",
    }
}

impl Table for analytics::Actions {
    const FROM: &'static str = "improvement_actions";

    fn selected(s: &Selection<'_>) -> String {
        s.releases("release_id")
    }

    fn refs(&self) -> Refs<'_> {
        Refs::of_release(&self.release)
    }

    columns! {
        release: Int = "release_id",
        created_at: Int = "created_at",
        closed_at: IntOrNull = "closed_at",
        due_date: DateOrNull = "due_date",
    }
}

impl Table for analytics::Overrides {
    const FROM: &'static str = "release_events";
    const SIZED: bool = false;

    fn selected(s: &Selection<'_>) -> String {
        format!("overrode_freeze AND {}", s.releases("release_id"))
    }

    fn refs(&self) -> Refs<'_> {
        Refs::of_release(&self.release)
    }

    columns! {
        release: Int = "release_id",
        at: Int = "at",
    }
}

impl Table for analytics::Unplanned {
    const FROM: &'static str = "deliveries";
    const SIZED: bool = false;

    /// Deployment deliveries that stayed outside the process, where their environment is
    /// known.
    fn selected(s: &Selection<'_>) -> String {
        format!(
            "{} AND environment_id IS NOT NULL AND {}",
            derived::unplanned_sql("status"),
            s.deliveries("id")
        )
    }

    fn refs(&self) -> Refs<'_> {
        Refs {
            environment: Some(&self.environment),
            ..Refs::default()
        }
    }

    columns! {
        id: Int = "id",
        program: Int = "program_id",
        received_at: Int = "received_at",
        environment: Int = "environment_id",
    }
}

impl Table for analytics::Entries {
    const FROM: &'static str = "release_events";
    const SIZED: bool = false;

    fn selected(s: &Selection<'_>) -> String {
        format!("to_status IS NOT NULL AND {}", s.releases("release_id"))
    }

    fn refs(&self) -> Refs<'_> {
        Refs::of_release(&self.release)
    }

    columns! {
        release: Int = "release_id",
        status: Code<ReleaseStatus> = "to_status",
        at: Int = "at",
    }
}

#[cfg(test)]
mod tests {
    use entity::enums::DeliveryStatus;
    use entity::release_party::PartyRole;
    use sea_orm::ActiveEnum;

    use super::*;

    /// The quoted text of `sql`.
    fn quoted(sql: &str) -> impl Iterator<Item = &str> {
        sql.split('\'').skip(1).step_by(2)
    }

    /// Text the queries compare stored enums with is spelled by those enums: a renamed
    /// variant cannot leave a query counting nothing.
    #[test]
    fn the_queries_spell_stored_values_as_the_entities_do() {
        let selections = [
            Selection::All,
            Selection::Only {
                releases: &[1, 2],
                incidents: &[3],
                deliveries: &[],
            },
        ];
        let mut queries = Vec::new();
        for selection in &selections {
            each!(&Tables::default(), |table| queries
                .push(select_of(table, selection)));
        }
        let mut spelled: Vec<&str> = queries.iter().flat_map(|q| quoted(q)).collect();
        spelled.sort_unstable();
        spelled.dedup();
        let team = PartyRole::Team.to_value();
        let mut stored = vec![
            team.as_str(),
            DeliveryStatus::Unmatched.as_str(),
            DeliveryStatus::Rejected.as_str(),
        ];
        stored.sort_unstable();
        assert_eq!(spelled, stored);
        assert!(
            queries.iter().all(|q| q.starts_with("SELECT ")),
            "{queries:?}"
        );
    }

    fn select_of<T: Table>(_: &T, selection: &Selection<'_>) -> String {
        T::select(selection)
    }

    /// Every field of a table is a column of the snapshot's layout, which changes with them.
    #[test]
    fn the_layout_names_every_column_and_kind() {
        let layout = layout();
        for part in [
            "deployments (id int, release int, environment int, status code(",
            "finished_at int or null, ingested flag)",
            "due_date date or null",
            "team text",
        ] {
            assert!(layout.contains(part), "{part} in {layout}");
        }
    }
}
