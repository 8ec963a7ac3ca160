//! Input validation: every failure is `BAD_USER_INPUT` naming the field.
//!
//! What a command takes is checked once, where it enters (GraphQL's inputs, an ingester),
//! into the types below: a command holding a [`Name`] knows it is a trimmed, bounded name,
//! and does not check it again.

use std::ops::Deref;

use crate::error::{ApiError, ApiResult};

/// Text checked by a rule of this module, kept as it was made.
macro_rules! checked {
    ($(#[$doc:meta])* $name:ident, $parse:ident, $optional:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// Checks `value`, given for `field`.
            pub fn parse(field: &str, value: &str) -> ApiResult<Self> {
                $parse(field, value).map(Self)
            }

            /// Checks an optional `value`; blank means absent.
            pub fn optional(field: &str, value: Option<&str>) -> ApiResult<Option<Self>> {
                Ok($optional(field, value)?.map(Self))
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}

checked!(
    /// Names, titles, versions and other short text ([`name`]).
    Name, name, optional_name
);
checked!(
    /// Descriptions, plans, notes and other long text ([`text`]).
    Text, text, optional_text
);
checked!(
    /// A git commit ([`revision`]).
    Commit, revision, optional_revision
);
checked!(
    /// A program key ([`program_key`]).
    ProgramKey, program_key, optional_program_key
);
checked!(
    /// An http or https URL ([`http_url`]).
    Url, http_url, optional_url
);

/// The name of a benchmark edition an ADMIN defines ([`benchmark_name`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchmarkName(String);

impl BenchmarkName {
    pub fn parse(field: &str, value: &str) -> ApiResult<Self> {
        benchmark_name(field, value).map(Self)
    }
}

impl Deref for BenchmarkName {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// A list of short names (teams, suppliers): each a [`Name`], duplicates dropped, order
/// kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names(Vec<String>);

impl Names {
    pub fn parse(field: &str, values: &[String]) -> ApiResult<Self> {
        names(field, values).map(Self)
    }
}

impl Deref for Names {
    type Target = [String];

    fn deref(&self) -> &[String] {
        &self.0
    }
}

fn optional_program_key(field: &str, value: Option<&str>) -> ApiResult<Option<String>> {
    value.map(|v| program_key(field, v)).transpose()
}

fn optional_url(field: &str, value: Option<&str>) -> ApiResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => http_url(field, v).map(Some),
        None => Ok(None),
    }
}

/// A git commit: 7 to 64 hexadecimal characters, kept in lower case.
fn revision(field: &str, value: &str) -> ApiResult<String> {
    optional_revision(field, Some(value))?
        .ok_or_else(|| ApiError::bad_input(field, "must not be empty"))
}

/// Names, titles, versions and other short text.
pub const MAX_NAME: usize = 200;
/// Descriptions, plans, notes and other long text.
pub const MAX_TEXT: usize = 20_000;

/// A required short text: trimmed, non-empty, at most 200 characters.
fn name(field: &str, value: &str) -> ApiResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::bad_input(field, "must not be empty"));
    }
    if value.chars().count() > MAX_NAME {
        return Err(ApiError::bad_input(
            field,
            format!("must be at most {MAX_NAME} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// An optional short text; blank means absent.
fn optional_name(field: &str, value: Option<&str>) -> ApiResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => name(field, v).map(Some),
        None => Ok(None),
    }
}

/// A required long text: non-empty after trimming, at most 20,000 characters.
fn text(field: &str, value: &str) -> ApiResult<String> {
    if value.trim().is_empty() {
        return Err(ApiError::bad_input(field, "must not be empty"));
    }
    if value.chars().count() > MAX_TEXT {
        return Err(ApiError::bad_input(
            field,
            format!("must be at most {MAX_TEXT} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// An optional long text; blank means absent.
fn optional_text(field: &str, value: Option<&str>) -> ApiResult<Option<String>> {
    match value.filter(|v| !v.trim().is_empty()) {
        Some(v) => text(field, v).map(Some),
        None => Ok(None),
    }
}

/// A git commit: 7 to 64 hexadecimal characters, kept in lower case; blank means absent.
fn optional_revision(field: &str, value: Option<&str>) -> ApiResult<Option<String>> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if !(7..=64).contains(&value.len()) || !value.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ApiError::bad_input(
            field,
            "must be a git commit: 7 to 64 hexadecimal characters",
        ));
    }
    Ok(Some(value.to_ascii_lowercase()))
}

/// A program key: 2 to 10 characters of A-Z and 0-9, starting with a letter.
fn program_key(field: &str, value: &str) -> ApiResult<String> {
    let valid = (2..=10).contains(&value.len())
        && value.starts_with(|c: char| c.is_ascii_uppercase())
        && value
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if valid {
        Ok(value.to_owned())
    } else {
        Err(ApiError::bad_input(
            field,
            "must be 2 to 10 characters of A-Z and 0-9, starting with a letter",
        ))
    }
}

fn benchmark_name(field: &str, value: &str) -> ApiResult<String> {
    let valid = (3..=40).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        return Err(ApiError::bad_input(
            field,
            "must be 3 to 40 characters of A-Z, 0-9 and _",
        ));
    }
    if analytics::Benchmark::built_ins()
        .iter()
        .any(|b| b.name == value)
    {
        return Err(ApiError::bad_input(
            field,
            format!("{value} is a built-in edition and cannot be redefined"),
        ));
    }
    Ok(value.to_owned())
}

/// A list of short names (teams, suppliers): each valid, duplicates dropped, order kept.
fn names(field: &str, values: &[String]) -> ApiResult<Vec<String>> {
    let mut seen = std::collections::HashSet::with_capacity(values.len());
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        let value = name(field, value)?;
        if seen.insert(value.clone()) {
            out.push(value);
        }
    }
    Ok(out)
}

/// An http(s) URL with a host.
fn http_url(field: &str, value: &str) -> ApiResult<String> {
    let value = value.trim();
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default());
    let valid = host.is_some_and(|h| !h.is_empty() && !h.starts_with(':'))
        && !value.chars().any(char::is_whitespace)
        && value.len() <= MAX_TEXT;
    if valid {
        Ok(value.to_owned())
    } else {
        Err(ApiError::bad_input(field, "must be an http or https URL"))
    }
}

/// `end` must not be before `start`.
pub fn not_before(field: &str, end: i64, start_field: &str, start: i64) -> ApiResult<()> {
    if end < start {
        Err(ApiError::bad_input(
            field,
            format!("must not be before {start_field}"),
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("name", "  Spring  ").ok(), Some("Spring".to_owned()));
        assert!(name("name", "   ").is_err());
        assert!(name("name", &"x".repeat(201)).is_err());
        assert!(name("name", &"é".repeat(200)).is_ok());
        assert_eq!(optional_name("owner", Some("  ")).ok(), Some(None));
    }

    #[test]
    fn long_text_is_bounded() {
        assert!(text("summary", &"x".repeat(20_000)).is_ok());
        assert!(text("summary", &"x".repeat(20_001)).is_err());
        assert!(optional_text("note", Some(&"x".repeat(20_001))).is_err());
    }

    #[test]
    fn program_keys() {
        for good in ["PAY", "P2", "ABCDEFGHIJ", "MOB2026"] {
            assert!(program_key("key", good).is_ok(), "{good}");
        }
        for bad in ["P", "pay", "2PAY", "PAY-1", "ABCDEFGHIJK", "", "PÄY"] {
            assert!(program_key("key", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn benchmark_names() {
        for good in ["ACME", "OUR_2026", "ABC", &"A".repeat(40)] {
            assert!(benchmark_name("name", good).is_ok(), "{good}");
        }
        let long = "A".repeat(41);
        for bad in [
            "AB",
            "acme",
            "OUR-2026",
            "OUR 2026",
            "",
            &long,
            "DORA_2023",
            "DORA_2021",
        ] {
            assert!(benchmark_name("name", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls() {
        assert!(http_url("evidenceUrl", "https://ci.example.com/run/1").is_ok());
        assert!(http_url("evidenceUrl", "http://localhost:8080").is_ok());
        for bad in [
            "ftp://x",
            "https://",
            "javascript:alert(1)",
            "https://a b",
            "ci.example.com",
            "https://:80/x",
        ] {
            assert!(http_url("evidenceUrl", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lists_drop_duplicates() {
        let teams = vec!["a".to_owned(), " b".to_owned(), "a".to_owned()];
        assert_eq!(
            names("teams", &teams).ok(),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        assert!(names("teams", &["".to_owned()]).is_err());
    }
}
