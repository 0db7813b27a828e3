//! The rules file format.
//!
//! One rule per line: conditions joined by `and`, an arrow, and the severity to give.
//!
//! ```text
//! # Lines starting with '#' and blank lines are ignored; '#' after a rule starts a comment.
//! dport <= 1024 and ibyt <= 54 -> 2
//! srcIP in 10.0.0.0/8 and dstIP not in 10.0.0.0/8 -> 3
//! dstIP == 2001:db8::7 -> 1
//! proto == TCP and lda_score < 1e-6 -> 1
//! dstDomain == "intel.com" -> 3
//! ```
//!
//! - A condition is `column operator value`; columns are the header names of
//!   `flow_scores.csv` (`sev`, `tstart`, `srcIP`, `dstIP`, `sport`, `dport`, `proto`, `flag`,
//!   `ipkt`, `ibyt`, `lda_score`, `rank`, `srcGeo`, ...), case-sensitive as in the file.
//! - Numbers (`sev`, `sport`, `dport`, `ipkt`, `ibyt`, `rank`, and `lda_score` with decimals)
//!   take `==`, `!=`, `<`, `<=`, `>`, `>=`. `proto` takes the same with a number, or `==`/`!=`
//!   with a name.
//! - `srcIP` and `dstIP` take `==`/`!=` with an address and `in`/`not in` with a network
//!   (`10.0.0.0/8`, `2001:db8::/32`); IPv4 and IPv6 alike.
//! - Other columns take `==` and `!=` with text. Values with spaces, `#` or quotes are written
//!   in double quotes, a quote inside doubled (`"say ""hi"""`).
//! - The severity is 1 (high), 2 (medium) or 3 (low).
//!
//! Rules are tried in file order and the first that matches decides the row. Any mistake is
//! reported as `file:line:column: message` and no rule of the file is applied.

use std::fmt;

use super::{Comparison, Condition, Rule};
use crate::Column;

/// A mistake in a rules file, with its place (1-based line and character column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSyntaxError {
    /// The file (or another name for the text).
    pub origin: String,
    /// 1-based line; 0 when the whole file is concerned.
    pub line: usize,
    /// 1-based column in characters; 0 when the whole line is concerned.
    pub column: usize,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for RuleSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, _) => write!(f, "{}: {}", self.origin, self.message),
            (line, 0) => write!(f, "{}:{line}: {}", self.origin, self.message),
            (line, column) => write!(f, "{}:{line}:{column}: {}", self.origin, self.message),
        }
    }
}

impl std::error::Error for RuleSyntaxError {}

/// A piece of a rule line and the column where it starts.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Operator(Comparison),
    Arrow,
}

type Located = (Token, usize);

/// Parses every rule of a text; `origin` names it in errors.
pub(crate) fn parse_rules(text: &str, origin: &str) -> Result<Vec<Rule>, RuleSyntaxError> {
    let mut rules = Vec::new();
    // Editors on Windows may start the file with a byte order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (index, line) in text.lines().enumerate() {
        let at = |column: usize, message: String| RuleSyntaxError {
            origin: origin.to_string(),
            line: index + 1,
            column,
            message,
        };
        let tokens = tokenize(line).map_err(|(column, message)| at(column, message))?;
        if tokens.is_empty() {
            continue;
        }
        let end = line.chars().count() + 1;
        let rule = RuleParser {
            tokens,
            next: 0,
            end,
        }
        .rule()
        .map_err(|(column, message)| at(column, message))?;
        rules.push(rule);
    }
    Ok(rules)
}

fn tokenize(line: &str) -> Result<Vec<Located>, (usize, String)> {
    let chars: Vec<char> = line.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '#' {
            break;
        } else if c == '-' && next == Some('>') {
            tokens.push((Token::Arrow, column));
            i += 2;
        } else if matches!(c, '=' | '!' | '<' | '>') {
            let (op, len) = match (c, next) {
                ('=', Some('=')) => (Comparison::Eq, 2),
                ('!', Some('=')) => (Comparison::Ne, 2),
                ('<', Some('=')) => (Comparison::Le, 2),
                ('>', Some('=')) => (Comparison::Ge, 2),
                ('<', _) => (Comparison::Lt, 1),
                ('>', _) => (Comparison::Gt, 1),
                _ => {
                    return Err((
                        column,
                        format!("{c:?} is not an operator; use ==, !=, <, <=, > or >="),
                    ))
                }
            };
            tokens.push((Token::Operator(op), column));
            i += len;
        } else if c == '"' {
            let (text, after) = quoted(&chars, i)?;
            tokens.push((Token::Quoted(text), column));
            i = after;
        } else {
            let start = i;
            while i < chars.len() {
                let c = chars[i];
                let arrow = c == '-' && chars.get(i + 1) == Some(&'>');
                if c.is_whitespace() || arrow || matches!(c, '=' | '!' | '<' | '>' | '"' | '#') {
                    break;
                }
                i += 1;
            }
            tokens.push((Token::Word(chars[start..i].iter().collect()), column));
        }
    }
    Ok(tokens)
}

/// A double-quoted value starting at `open`; returns its text and the index after it.
fn quoted(chars: &[char], open: usize) -> Result<(String, usize), (usize, String)> {
    let mut text = String::new();
    let mut i = open + 1;
    loop {
        match chars.get(i) {
            Some('"') if chars.get(i + 1) == Some(&'"') => {
                text.push('"');
                i += 2;
            }
            Some('"') => return Ok((text, i + 1)),
            Some(&c) => {
                text.push(c);
                i += 1;
            }
            None => return Err((open + 1, "quote not closed on this line".to_string())),
        }
    }
}

/// Reads one rule from a line's tokens.
struct RuleParser {
    tokens: Vec<Located>,
    next: usize,
    /// The column just past the end of the line, for "expected more" errors.
    end: usize,
}

impl RuleParser {
    fn peek(&self) -> Option<&Located> {
        self.tokens.get(self.next)
    }

    fn take(&mut self) -> Option<Located> {
        let token = self.tokens.get(self.next).cloned();
        self.next += 1;
        token
    }

    fn here(&self) -> usize {
        self.peek().map_or(self.end, |(_, column)| *column)
    }

    fn rule(mut self) -> Result<Rule, (usize, String)> {
        let mut conditions = Vec::new();
        loop {
            conditions.push(self.condition()?);
            match self.take() {
                Some((Token::Word(w), _)) if w == "and" => continue,
                Some((Token::Arrow, _)) => break,
                Some((_, column)) => return Err((column, "expected `and` or `->`".to_string())),
                None => {
                    return Err((
                        self.end,
                        "the rule has no severity; end it with `-> 1`, `-> 2` or `-> 3`"
                            .to_string(),
                    ))
                }
            }
        }
        let at = self.here();
        let severity = match self.take() {
            Some((Token::Word(w), _)) => match w.as_str() {
                "1" => 1,
                "2" => 2,
                "3" => 3,
                _ => return Err((at, format!("severity {w:?} is not 1, 2 or 3"))),
            },
            _ => return Err((at, "expected a severity (1, 2 or 3) after `->`".to_string())),
        };
        if let Some((_, column)) = self.peek() {
            return Err((*column, "unexpected text after the severity".to_string()));
        }
        Rule::new(conditions, severity).map_err(|e| (1, e.0))
    }

    fn condition(&mut self) -> Result<Condition, (usize, String)> {
        let at = self.here();
        let column = match self.take() {
            Some((Token::Word(name), _)) => column_named(&name).map_err(|m| (at, m))?,
            _ => return Err((at, "expected a column name".to_string())),
        };
        let comparison = self.comparison()?;
        let at = self.here();
        let value = match self.take() {
            Some((Token::Word(v) | Token::Quoted(v), _)) => v,
            _ => return Err((at, "expected a value".to_string())),
        };
        Condition::new(column, comparison, &value).map_err(|e| (at, e.0))
    }

    fn comparison(&mut self) -> Result<Comparison, (usize, String)> {
        let at = self.here();
        match self.take() {
            Some((Token::Operator(op), _)) => Ok(op),
            Some((Token::Word(w), _)) if w == "in" => Ok(Comparison::In),
            Some((Token::Word(w), _)) if w == "not" => match self.take() {
                Some((Token::Word(w), _)) if w == "in" => Ok(Comparison::NotIn),
                _ => Err((at, "expected `not in`".to_string())),
            },
            _ => Err((
                at,
                "expected an operator: ==, !=, <, <=, >, >=, in or not in".to_string(),
            )),
        }
    }
}

fn column_named(name: &str) -> Result<Column, String> {
    if let Some(column) = Column::from_name(name) {
        return Ok(column);
    }
    let similar = Column::ALL
        .into_iter()
        .find(|c| c.name().eq_ignore_ascii_case(name));
    Err(match similar {
        Some(column) => format!("unknown column {name:?}; did you mean {}?", column.name()),
        None => format!(
            "unknown column {name:?}; columns are {}",
            Column::ALL.map(Column::name).join(", ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> String {
        parse_rules(text, "t.rules")
            .expect_err("the text has a mistake")
            .to_string()
    }

    #[test]
    fn rules_read_with_comments_quotes_and_tight_operators() {
        let rules = parse_rules(
            "# header\n\n dport<=1024 and ibyt<=54->2   # trailing\nsrcGeo == \"Zürich, CH\" and flag != \"say \"\"hi\"\"\" -> 1\nsrcIP not in 10.0.0.0/8 and lda_score < -1e-3 -> 3\n",
            "t.rules",
        )
        .expect("valid rules");
        let texts: Vec<String> = rules.iter().map(ToString::to_string).collect();
        assert_eq!(
            texts,
            [
                "dport <= 1024 and ibyt <= 54 -> 2",
                "srcGeo == \"Zürich, CH\" and flag != \"say \"\"hi\"\"\" -> 1",
                "srcIP not in 10.0.0.0/8 and lda_score < -1e-3 -> 3",
            ]
        );
        let again = parse_rules(&texts.join("\n"), "again").expect("display reads back");
        assert_eq!(again, rules);
    }

    #[test]
    fn windows_line_ends_and_a_byte_order_mark_are_accepted() {
        let rules = parse_rules(
            "\u{feff}dport <= 1024 -> 2\r\nsport == 0 -> 1\r\n",
            "t.rules",
        )
        .expect("valid rules");
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].to_string(), "dport <= 1024 -> 2");
    }

    #[test]
    fn mistakes_point_at_line_and_column() {
        assert_eq!(
            error_of("dport <= 1024 -> 2\nDport <= 1024 -> 2\n"),
            "t.rules:2:1: unknown column \"Dport\"; did you mean dport?"
        );
        assert_eq!(
            error_of("dport <= http -> 2"),
            "t.rules:1:10: dport <= needs a whole number, not \"http\""
        );
        assert_eq!(
            error_of("dport <= 1024 -> 4"),
            "t.rules:1:18: severity \"4\" is not 1, 2 or 3"
        );
        assert_eq!(
            error_of("dport <= 1024"),
            "t.rules:1:14: the rule has no severity; end it with `-> 1`, `-> 2` or `-> 3`"
        );
        assert_eq!(
            error_of("dport = 80 -> 2"),
            "t.rules:1:7: '=' is not an operator; use ==, !=, <, <=, > or >="
        );
        assert_eq!(
            error_of("dport <= 1024 or sport == 0 -> 2"),
            "t.rules:1:15: expected `and` or `->`"
        );
        assert_eq!(
            error_of("srcGeo == \"open -> 2"),
            "t.rules:1:11: quote not closed on this line"
        );
        assert_eq!(
            error_of("dport <= 80 -> 2 2"),
            "t.rules:1:18: unexpected text after the severity"
        );
        assert!(error_of("nosuch == 1 -> 2").contains("columns are sev, tstart, srcIP"));
    }
}
