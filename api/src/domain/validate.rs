//! Input validation: every failure is `BAD_USER_INPUT` naming the field.

use crate::error::{ApiError, ApiResult};

/// Names, titles, versions and other short text.
pub const MAX_NAME: usize = 200;
/// Descriptions, plans, notes and other long text.
pub const MAX_TEXT: usize = 20_000;

/// A required short text: trimmed, non-empty, at most 200 characters.
pub fn name(field: &str, value: &str) -> ApiResult<String> {
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
pub fn optional_name(field: &str, value: Option<&str>) -> ApiResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => name(field, v).map(Some),
        None => Ok(None),
    }
}

/// A required long text: non-empty after trimming, at most 20,000 characters.
pub fn text(field: &str, value: &str) -> ApiResult<String> {
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
pub fn optional_text(field: &str, value: Option<&str>) -> ApiResult<Option<String>> {
    match value.filter(|v| !v.trim().is_empty()) {
        Some(v) => text(field, v).map(Some),
        None => Ok(None),
    }
}

/// A git commit: 7 to 64 hexadecimal characters, kept in lower case; blank means absent.
pub fn optional_revision(field: &str, value: Option<&str>) -> ApiResult<Option<String>> {
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
pub fn program_key(field: &str, value: &str) -> ApiResult<String> {
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

/// A list of short names (teams, suppliers): each valid, duplicates dropped, order kept.
pub fn names(field: &str, values: &[String]) -> ApiResult<Vec<String>> {
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
pub fn http_url(field: &str, value: &str) -> ApiResult<String> {
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
