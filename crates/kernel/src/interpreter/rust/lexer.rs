//! A small Rust scanner: enough to see brackets, strings and comments, nothing more.
//!
//! Used to answer `is_complete` (is the cell finished?) and to tell whether a cell ends in
//! an expression whose value is shown. It does not parse Rust; it only tracks the tokens
//! that can hide brackets or semicolons (strings, chars, comments).

/// What scanning a cell found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Scan {
    /// The code with comments removed and every string or char literal emptied.
    pub(crate) code: String,
    /// Brackets opened and not yet closed, outermost first.
    pub(crate) open_brackets: Vec<char>,
    /// The cell ends inside a string, char literal or block comment.
    pub(crate) unterminated: bool,
    /// A closing bracket did not match the innermost open one.
    pub(crate) mismatched: bool,
}

/// Scans `source`.
pub(crate) fn scan(source: &str) -> Scan {
    let chars: Vec<char> = source.chars().collect();
    let mut scan = Scan::default();
    let mut index = 0;
    while index < chars.len() {
        let current = chars[index];
        let next = chars.get(index + 1).copied();
        index = match (current, next) {
            ('/', Some('/')) => skip_line_comment(&chars, index),
            ('/', Some('*')) => match skip_block_comment(&chars, index) {
                Some(after) => {
                    scan.code.push(' ');
                    after
                }
                None => return unterminated(scan),
            },
            ('"', _) => match skip_string(&chars, index + 1) {
                Some(after) => {
                    scan.code.push_str("\"\"");
                    after
                }
                None => return unterminated(scan),
            },
            ('r', Some('"' | '#')) if !follows_identifier(&chars, index) => {
                match skip_raw_string(&chars, index + 1) {
                    RawString::NotRaw => {
                        scan.code.push(current);
                        index + 1
                    }
                    RawString::Ends(after) => {
                        scan.code.push_str("\"\"");
                        after
                    }
                    RawString::Unterminated => return unterminated(scan),
                }
            }
            ('\'', _) => match char_literal_end(&chars, index) {
                CharLiteral::Ends(after) => {
                    scan.code.push_str("' '");
                    after
                }
                CharLiteral::Lifetime => {
                    scan.code.push('\'');
                    index + 1
                }
                CharLiteral::Unterminated => return unterminated(scan),
            },
            (open @ ('(' | '[' | '{'), _) => {
                scan.open_brackets.push(open);
                scan.code.push(open);
                index + 1
            }
            (close @ (')' | ']' | '}'), _) => {
                let expected = match close {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                if scan.open_brackets.pop() != Some(expected) {
                    scan.mismatched = true;
                }
                scan.code.push(close);
                index + 1
            }
            (other, _) => {
                scan.code.push(other);
                index + 1
            }
        };
    }
    scan
}

fn unterminated(mut scan: Scan) -> Scan {
    scan.unterminated = true;
    scan
}

fn follows_identifier(chars: &[char], index: usize) -> bool {
    index > 0 && (chars[index - 1].is_alphanumeric() || chars[index - 1] == '_')
}

fn skip_line_comment(chars: &[char], start: usize) -> usize {
    chars[start..]
        .iter()
        .position(|&c| c == '\n')
        .map_or(chars.len(), |offset| start + offset)
}

/// Returns the index after the comment; block comments nest in Rust.
fn skip_block_comment(chars: &[char], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut index = start;
    while index + 1 < chars.len() {
        match (chars[index], chars[index + 1]) {
            ('/', '*') => {
                depth += 1;
                index += 2;
            }
            ('*', '/') => {
                depth -= 1;
                index += 2;
                if depth == 0 {
                    return Some(index);
                }
            }
            _ => index += 1,
        }
    }
    None
}

/// `start` is just after the opening quote; returns the index after the closing one.
fn skip_string(chars: &[char], start: usize) -> Option<usize> {
    let mut index = start;
    while index < chars.len() {
        match chars[index] {
            '\\' => index += 2,
            '"' => return Some(index + 1),
            _ => index += 1,
        }
    }
    None
}

enum RawString {
    NotRaw,
    Ends(usize),
    Unterminated,
}

/// `start` is just after the `r`: zero or more `#` then `"`.
fn skip_raw_string(chars: &[char], start: usize) -> RawString {
    let hashes = chars[start..].iter().take_while(|&&c| c == '#').count();
    let quote = start + hashes;
    if chars.get(quote) != Some(&'"') {
        return RawString::NotRaw;
    }
    let mut index = quote + 1;
    while index < chars.len() {
        if chars[index] == '"'
            && chars[index + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == '#')
                .count()
                == hashes
        {
            return RawString::Ends(index + 1 + hashes);
        }
        index += 1;
    }
    RawString::Unterminated
}

enum CharLiteral {
    Ends(usize),
    Lifetime,
    Unterminated,
}

/// Tells `'a'` and `'\n'` (char literals) from `'a` (a lifetime or label).
fn char_literal_end(chars: &[char], start: usize) -> CharLiteral {
    match (chars.get(start + 1), chars.get(start + 2)) {
        (Some('\\'), _) => {
            // The escaped character itself (at start + 2) may be a quote: `'\''`.
            let closing = chars
                .get(start + 3..)
                .unwrap_or_default()
                .iter()
                .take(12)
                .position(|&c| c == '\'');
            match closing {
                Some(offset) => CharLiteral::Ends(start + 4 + offset),
                None => CharLiteral::Unterminated,
            }
        }
        (Some(_), Some('\'')) => CharLiteral::Ends(start + 3),
        (Some(_), _) => CharLiteral::Lifetime,
        (None, _) => CharLiteral::Unterminated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_inside_strings_chars_and_comments_do_not_count() {
        let scan = scan(
            "let s = \"(\"; let c = '{'; let q = '\\''; let r = r#\"[\"#; // (\n/* { /* nested */ */ fn f<'a>() {}",
        );
        assert!(scan.open_brackets.is_empty(), "{scan:?}");
        assert!(!scan.unterminated && !scan.mismatched);
    }

    #[test]
    fn an_open_brace_is_reported_as_open() {
        assert_eq!(
            scan("fn main() {\n  let x = [1,").open_brackets,
            vec!['{', '[']
        );
    }

    #[test]
    fn an_unclosed_string_or_comment_is_unterminated() {
        assert!(scan("let s = \"abc").unterminated);
        assert!(scan("/* note").unterminated);
        assert!(scan("let s = r#\"abc\"").unterminated);
    }

    #[test]
    fn a_wrong_closing_bracket_is_mismatched() {
        assert!(scan("foo(]").mismatched);
        assert!(scan("}").mismatched);
    }

    #[test]
    fn escaped_quotes_stay_inside_the_string() {
        let scan = scan(r#"let s = "a \" ( b";"#);
        assert_eq!(scan.code, r#"let s = "";"#);
    }
}
