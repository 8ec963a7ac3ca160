//! The kinds of analytics column: how a value of each is taken from a row of the database
//! ([`Row`]: sqlx on SQLite, binary COPY on PostgreSQL) and how a column of them is kept
//! in the snapshot ([`super::persisted`]). A table's declaration ([`super::tables`]) names
//! each column's kind.

use std::io::{Read, Write};
use std::marker::PhantomData;

use analytics::Coded;
use sea_orm::DbErr;

use super::codec::{Reader, Writer, bad};
use super::rows::Row;

/// A kind of column.
pub(super) trait Kind {
    /// What a column of this kind holds, one per row.
    type Value;

    /// The kind as the snapshot's layout names it: a snapshot of another layout is not
    /// read.
    fn layout() -> String;

    /// The next value of `row`.
    fn decode(row: &mut dyn Row) -> Result<Self::Value, DbErr>;

    fn store(values: &[Self::Value], out: &mut Writer<impl Write>) -> std::io::Result<()>;

    /// A column of `rows` values.
    fn load(input: &mut Reader<impl Read>, rows: usize) -> std::io::Result<Vec<Self::Value>>;
}

/// An INTEGER or BIGINT.
pub(super) struct Int;

/// An INTEGER or BIGINT, or NULL.
pub(super) struct IntOrNull;

/// A boolean (SQLite holds it as 0 or 1).
pub(super) struct Flag;

pub(super) struct Text;

/// A DATE, as days since 1970-01-01, or NULL.
pub(super) struct DateOrNull;

/// Stored text that spells a variant of `E`: unknown text fails the read instead of
/// becoming another value. Kept in the snapshot as the variants' codes.
pub(super) struct Code<E>(PhantomData<E>);

/// The variant `text` spells, or the error of a stored value analytics does not know.
fn coded<E: Coded>(text: &str) -> Result<E, DbErr> {
    E::iter()
        .find(|v| Into::<&str>::into(*v) == text)
        .ok_or_else(|| {
            DbErr::Type(format!(
                "a stored {} '{text}' that analytics does not know",
                std::any::type_name::<E>()
            ))
        })
}

/// Which of `values` are not NULL, then every value (NULL as `T`'s default).
fn store_optional<T: Copy + Default, const N: usize>(
    values: &[Option<T>],
    out: &mut Writer<impl Write>,
    bytes: impl Fn(T) -> [u8; N],
) -> std::io::Result<()> {
    Flag::store(&values.iter().map(Option::is_some).collect::<Vec<_>>(), out)?;
    out.values(values.iter().map(|v| bytes(v.unwrap_or_default())))
}

fn load_optional<T, const N: usize>(
    input: &mut Reader<impl Read>,
    rows: usize,
    value: impl Fn([u8; N]) -> T,
) -> std::io::Result<Vec<Option<T>>> {
    let present = Flag::load(input, rows)?;
    let values = input.values(rows, value)?;
    Ok(present
        .into_iter()
        .zip(values)
        .map(|(p, v)| p.then_some(v))
        .collect())
}

impl Kind for Int {
    type Value = i64;

    fn layout() -> String {
        "int".into()
    }

    fn decode(row: &mut dyn Row) -> Result<i64, DbErr> {
        row.int()
    }

    fn store(values: &[i64], out: &mut Writer<impl Write>) -> std::io::Result<()> {
        out.values(values.iter().map(|v| v.to_le_bytes()))
    }

    fn load(input: &mut Reader<impl Read>, rows: usize) -> std::io::Result<Vec<i64>> {
        input.values(rows, i64::from_le_bytes)
    }
}

impl Kind for IntOrNull {
    type Value = Option<i64>;

    fn layout() -> String {
        "int or null".into()
    }

    fn decode(row: &mut dyn Row) -> Result<Option<i64>, DbErr> {
        row.int_or_null()
    }

    fn store(values: &[Option<i64>], out: &mut Writer<impl Write>) -> std::io::Result<()> {
        store_optional(values, out, i64::to_le_bytes)
    }

    fn load(input: &mut Reader<impl Read>, rows: usize) -> std::io::Result<Vec<Option<i64>>> {
        load_optional(input, rows, i64::from_le_bytes)
    }
}

impl Kind for Flag {
    type Value = bool;

    fn layout() -> String {
        "flag".into()
    }

    fn decode(row: &mut dyn Row) -> Result<bool, DbErr> {
        row.flag()
    }

    fn store(values: &[bool], out: &mut Writer<impl Write>) -> std::io::Result<()> {
        out.values(values.iter().map(|b| [u8::from(*b)]))
    }

    fn load(input: &mut Reader<impl Read>, rows: usize) -> std::io::Result<Vec<bool>> {
        input.values(rows, |[b]| b != 0)
    }
}

impl Kind for Text {
    type Value = String;

    fn layout() -> String {
        "text".into()
    }

    fn decode(row: &mut dyn Row) -> Result<String, DbErr> {
        row.text()
    }

    fn store(values: &[String], out: &mut Writer<impl Write>) -> std::io::Result<()> {
        values.iter().try_for_each(|text| out.text(text))
    }

    fn load(input: &mut Reader<impl Read>, rows: usize) -> std::io::Result<Vec<String>> {
        (0..rows).map(|_| input.text()).collect()
    }
}

impl Kind for DateOrNull {
    type Value = Option<i32>;

    fn layout() -> String {
        "date or null".into()
    }

    fn decode(row: &mut dyn Row) -> Result<Option<i32>, DbErr> {
        row.date_or_null()
    }

    fn store(values: &[Option<i32>], out: &mut Writer<impl Write>) -> std::io::Result<()> {
        store_optional(values, out, i32::to_le_bytes)
    }

    fn load(input: &mut Reader<impl Read>, rows: usize) -> std::io::Result<Vec<Option<i32>>> {
        load_optional(input, rows, i32::from_le_bytes)
    }
}

impl<E: Coded> Kind for Code<E> {
    type Value = E;

    /// Every variant with its code: codes given to other variants are another layout.
    fn layout() -> String {
        let variants: Vec<String> = E::iter()
            .map(|v| format!("{}={}", Into::<&str>::into(v), v.code()))
            .collect();
        format!("code({})", variants.join(" "))
    }

    fn decode(row: &mut dyn Row) -> Result<E, DbErr> {
        coded(&row.text()?)
    }

    fn store(values: &[E], out: &mut Writer<impl Write>) -> std::io::Result<()> {
        out.values(values.iter().map(|v| v.code().to_le_bytes()))
    }

    fn load(input: &mut Reader<impl Read>, rows: usize) -> std::io::Result<Vec<E>> {
        input
            .values(rows, i32::from_le_bytes)?
            .into_iter()
            .map(|code| E::from_code(code).ok_or_else(|| bad("an unknown code")))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use analytics::{DeploymentStatus, GateStatus, ReleaseStatus, ReleaseType, Severity, Tier};
    use entity::enums;
    use sea_orm::Iterable;

    use super::*;

    /// Every stored spelling of `D` has exactly one analytics variant, and back.
    fn same_spellings<D, E>(stored: impl Fn(D) -> &'static str)
    where
        D: Iterable,
        E: Coded,
    {
        let mut stored: Vec<&str> = D::iter().map(stored).collect();
        let mut coded: Vec<&str> = E::iter().map(Into::into).collect();
        stored.sort_unstable();
        coded.sort_unstable();
        assert_eq!(stored, coded, "{}", std::any::type_name::<E>());
    }

    #[test]
    fn analytics_codes_cover_every_stored_value() {
        same_spellings::<enums::EnvironmentTier, Tier>(enums::EnvironmentTier::as_str);
        same_spellings::<enums::DeploymentStatus, DeploymentStatus>(
            enums::DeploymentStatus::as_str,
        );
        same_spellings::<enums::GateStatus, GateStatus>(enums::GateStatus::as_str);
        same_spellings::<enums::Severity, Severity>(enums::Severity::as_str);
        same_spellings::<enums::ReleaseStatus, ReleaseStatus>(enums::ReleaseStatus::as_str);
        same_spellings::<enums::ReleaseType, ReleaseType>(enums::ReleaseType::as_str);
    }

    #[test]
    fn stored_text_is_read_as_its_variant_or_refused() {
        assert_eq!(coded::<Tier>("PRODUCTION"), Ok(Tier::Production));
        assert_eq!(
            coded::<DeploymentStatus>("ROLLED_BACK"),
            Ok(DeploymentStatus::RolledBack)
        );
        assert!(coded::<DeploymentStatus>("rolled_back").is_err());
        assert!(coded::<GateStatus>("").is_err());
    }
}
