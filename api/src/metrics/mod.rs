//! Release metrics: the columns analytics needs, loaded from the database into an in-memory
//! [`analytics::Store`] that every process keeps fresh from the change feed.

pub mod cache;
pub mod load;

use analytics::ProgramRef;

use crate::auth::Scope;

/// The most trend buckets one query may ask for.
pub const MAX_BUCKETS: usize = 2_000;

/// The programs a query covers: those of `all` the caller may see, narrowed to `keys` when
/// given. A key naming no program the caller may see is the error, so a program out of
/// scope answers exactly as one that does not exist.
pub fn select_programs<'k>(
    all: &[ProgramRef],
    scope: &Scope,
    keys: Option<&'k [String]>,
) -> Result<Vec<ProgramRef>, &'k str> {
    let visible = all.iter().filter(|p| scope.contains(p.id));
    let Some(keys) = keys else {
        return Ok(visible.cloned().collect());
    };
    let visible: Vec<&ProgramRef> = visible.collect();
    if let Some(missing) = keys.iter().find(|k| !visible.iter().any(|p| &p.key == *k)) {
        return Err(missing);
    }
    Ok(visible
        .into_iter()
        .filter(|p| keys.contains(&p.key))
        .cloned()
        .collect())
}
