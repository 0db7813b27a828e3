//! `is_complete`: is a Rust cell ready to run, or should the console wait for more lines?
//!
//! Incomplete while brackets, a string or a comment are still open; invalid when a closing
//! bracket does not match.

use super::lexer;
use crate::interpreter::Completeness;

/// Judges `code` by its brackets, strings and comments.
pub(super) fn is_complete(code: &str) -> Completeness {
    let scan = lexer::scan(code);
    if scan.mismatched {
        Completeness::Invalid
    } else if scan.unterminated || !scan.open_brackets.is_empty() {
        Completeness::Incomplete {
            indent: "    ".repeat(scan.open_brackets.len()),
        }
    } else {
        Completeness::Complete
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_statement_is_complete() {
        assert_eq!(
            is_complete("let x = 1;\nprintln!(\"{x}\");"),
            Completeness::Complete
        );
    }

    #[test]
    fn an_open_function_body_is_incomplete_with_an_indent_hint() {
        assert_eq!(
            is_complete("fn main() {"),
            Completeness::Incomplete {
                indent: "    ".into()
            }
        );
    }

    #[test]
    fn an_unterminated_string_is_incomplete() {
        assert!(matches!(
            is_complete("let s = \"hello"),
            Completeness::Incomplete { .. }
        ));
    }

    #[test]
    fn a_stray_closing_bracket_is_invalid() {
        assert_eq!(is_complete("let x = (1]);"), Completeness::Invalid);
    }
}
