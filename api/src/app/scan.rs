//! A cheap look at a document's text before async-graphql parses it.
//!
//! The parser recurses once per nesting level of lists, objects, selection sets and
//! argument lists, so a few kilobytes of `[[[[…` would overflow a worker's stack and abort
//! the process. This scan walks the text once, skipping strings, block strings and
//! comments, and refuses documents nested deeper than any real query or with more tokens
//! than any real query needs.

/// Deepest nesting of `[`, `{` and `(` a document may have: selection sets alone are
/// limited to `MAX_DEPTH` fields deep, and input values seldom nest more than a few levels.
pub use crate::graphql::complexity::MAX_NESTING;
/// Most tokens a document may have: GraphiQL's introspection query has about 300.
pub const MAX_TOKENS: usize = 10_000;

/// Why a document was refused before parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    TooDeep,
    TooManyTokens,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooDeep => write!(
                f,
                "the document nests brackets and braces more than {MAX_NESTING} levels deep"
            ),
            Self::TooManyTokens => write!(f, "the document has more than {MAX_TOKENS} tokens"),
        }
    }
}

/// Checks the nesting and token count of a GraphQL document.
pub fn check(document: &str) -> Result<(), Refusal> {
    let bytes = document.as_bytes();
    let (mut i, mut depth, mut tokens) = (0, 0usize, 0usize);
    let mut in_word = false;
    while i < bytes.len() {
        let b = bytes[i];
        let word = b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.';
        if word && !in_word {
            tokens += 1;
        }
        in_word = word;
        match b {
            b'#' => i = skip_line(bytes, i),
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                tokens += 1;
                i = skip_block_string(bytes, i + 3);
            }
            b'"' => {
                tokens += 1;
                i = skip_string(bytes, i + 1);
            }
            b'[' | b'{' | b'(' => {
                tokens += 1;
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(Refusal::TooDeep);
                }
                i += 1;
            }
            b']' | b'}' | b')' => {
                tokens += 1;
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'!' | b'$' | b'&' | b':' | b'=' | b'@' | b'|' => {
                tokens += 1;
                i += 1;
            }
            _ => i += 1,
        }
        if tokens > MAX_TOKENS {
            return Err(Refusal::TooManyTokens);
        }
    }
    Ok(())
}

/// The index after the comment starting at `i`.
fn skip_line(bytes: &[u8], i: usize) -> usize {
    bytes[i..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map_or(bytes.len(), |n| i + n)
}

/// The index after the closing quote of a string whose body starts at `i`.
fn skip_string(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' | b'\n' | b'\r' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The index after the closing `"""` of a block string whose body starts at `i`.
fn skip_block_string(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        if bytes[i..].starts_with(b"\\\"\"\"") {
            i += 4;
        } else if bytes[i..].starts_with(b"\"\"\"") {
            return i + 3;
        } else {
            i += 1;
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_documents() {
        let query = r#"
            # a comment with [[[[ and {{{{
            query Q($id: ID!) { node(id: $id) { ... on Release { version notes(format: "[{(") } } }
            mutation { createRelease(input: { title: """block [[[ \""" {{{""", teams: ["a", "b"] }) { id } }
        "#;
        assert_eq!(check(query), Ok(()));
    }

    #[test]
    fn refuses_deep_nesting_of_any_bracket() {
        for (open, close) in [("[", "]"), ("{", "}"), ("(", ")")] {
            let deep = format!("{{ f(a: {}1{}) }}", open.repeat(2000), close.repeat(2000));
            assert_eq!(check(&deep), Err(Refusal::TooDeep), "{open}");
        }
        let nested_objects = format!("{{ f(a: {}) }}", "{a: ".repeat(100) + &"}".repeat(100));
        assert_eq!(check(&nested_objects), Err(Refusal::TooDeep));
        let at_limit = format!("{}{}", "[".repeat(MAX_NESTING), "]".repeat(MAX_NESTING));
        assert_eq!(check(&at_limit), Ok(()));
    }

    #[test]
    fn brackets_inside_strings_and_comments_do_not_count() {
        let inside = format!(
            "{{ f(a: \"{}\", b: \"\"\"{}\"\"\") }} # {}",
            "[".repeat(5000),
            "{".repeat(5000),
            "(".repeat(5000)
        );
        assert_eq!(check(&inside), Ok(()));
    }

    #[test]
    fn an_unterminated_string_ends_the_scan() {
        assert_eq!(check("{ f(a: \"[[[[[[[["), Ok(()));
        assert_eq!(check("{ f(a: \"\"\"[[[[[["), Ok(()));
    }

    #[test]
    fn refuses_too_many_tokens() {
        let many = format!("{{ {} }}", "a ".repeat(MAX_TOKENS));
        assert_eq!(check(&many), Err(Refusal::TooManyTokens));
        let directives = format!("{{ a {} }}", "@include(if: true) ".repeat(2000));
        assert_eq!(check(&directives), Err(Refusal::TooManyTokens));
    }
}
