//! Release metrics: the columns analytics needs, loaded from the database into an in-memory
//! [`analytics::Store`] that every process keeps fresh from the change feed.

pub mod cache;
mod columns;
pub mod load;
pub mod persisted;
mod rows;
mod tables;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn programs() -> Vec<ProgramRef> {
        [(1, "MOB"), (2, "PAY"), (3, "WEB")]
            .map(|(id, key)| ProgramRef {
                id,
                key: key.into(),
            })
            .to_vec()
    }

    fn keys(selected: &[ProgramRef]) -> Vec<&str> {
        selected.iter().map(|p| p.key.as_str()).collect()
    }

    #[test]
    fn selects_the_visible_programs_named() {
        let all = programs();
        let scope = Scope::Programs(vec![1, 2]);
        assert_eq!(
            keys(&select_programs(&all, &scope, None).unwrap()),
            ["MOB", "PAY"]
        );
        let wanted = ["PAY".to_owned()];
        assert_eq!(
            keys(&select_programs(&all, &scope, Some(&wanted)).unwrap()),
            ["PAY"]
        );
        assert_eq!(select_programs(&all, &Scope::All, None).unwrap(), all);
    }

    #[test]
    fn out_of_scope_and_unknown_keys_fail_alike() {
        let all = programs();
        let scope = Scope::Programs(vec![1]);
        let hidden = ["MOB".to_owned(), "WEB".to_owned()];
        assert_eq!(select_programs(&all, &scope, Some(&hidden)), Err("WEB"));
        let unknown = ["NOPE".to_owned()];
        assert_eq!(select_programs(&all, &scope, Some(&unknown)), Err("NOPE"));
    }
}
