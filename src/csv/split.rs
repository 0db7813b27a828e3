//! The RFC 4180 record splitter: finds where one record and each of its fields
//! start and end, without copying or changing a byte.
//!
//! The engine rewrites files by copying raw bytes and replacing only the `sev`
//! field of matched rows, so the splitter reports *raw* spans (quotes
//! included) next to the *text* spans (inside the quotes). It accepts `\n` and
//! `\r\n` line ends and quoted fields holding commas, quotes (doubled) and line
//! breaks; it refuses a stray quote or a bare carriage return, saying where.

use crate::error::Problem;
use memchr::memchr;
use std::ops::Range;

/// Where one field lies inside its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldSpan {
    /// The field's bytes as written, quotes included.
    pub raw: Range<usize>,
    /// The field's text inside the quotes (still with doubled quotes).
    pub text: Range<usize>,
    /// True when the text holds doubled quotes and needs unescaping.
    pub escaped: bool,
}

/// A record found at the start of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Split {
    /// Bytes of content, line end excluded.
    pub content_len: usize,
    /// Bytes of the line end: 0 (last record without one), 1 (`\n`) or 2 (`\r\n`).
    pub terminator_len: usize,
    /// Line breaks inside quoted fields (so the next record's line number is
    /// this record's line + `inner_newlines` + 1).
    pub inner_newlines: u64,
}

/// The outcome of looking for a record at the start of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    /// A whole record.
    Record(Split),
    /// The input ends inside the record and more input may follow.
    NeedMore,
}

/// A problem found by the splitter: what, at which byte of the record, in
/// which field (0-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SplitError {
    pub problem: Problem,
    pub offset: usize,
    pub field: usize,
}

/// Splits the record at the start of `input` into `fields` (cleared first).
///
/// `at_eof` says whether `input` is all there is: then a record may end
/// without a line end, and an open quote is an error instead of a reason to
/// read more. The caller must not call this with empty input at EOF.
pub(crate) fn split_record(
    input: &[u8],
    at_eof: bool,
    fields: &mut Vec<FieldSpan>,
) -> Result<Found, SplitError> {
    fields.clear();
    let mut inner_newlines = 0u64;
    let mut at = 0usize;
    loop {
        if input.get(at) != Some(&b'"') {
            match split_unquoted_run(input, at, at_eof, fields)? {
                Run::NeedMore => return Ok(Found::NeedMore),
                Run::QuotedFieldAt(next) => at = next,
                Run::RecordEnd(content_len, terminator_len) => {
                    return Ok(Found::Record(Split {
                        content_len,
                        terminator_len,
                        inner_newlines,
                    }))
                }
            }
            continue;
        }
        let field = fields.len();
        let Some((end, escaped, newlines)) = scan_quoted(input, at, at_eof, field)? else {
            return Ok(Found::NeedMore);
        };
        inner_newlines += newlines;
        fields.push(FieldSpan {
            raw: at..end,
            text: at + 1..end - 1,
            escaped,
        });
        // `scan_quoted` checked what follows: a comma, `\n`, `\r\n` or the end.
        match input.get(end) {
            Some(b',') => at = end + 1,
            None => {
                return Ok(Found::Record(Split {
                    content_len: end,
                    terminator_len: 0,
                    inner_newlines,
                }))
            }
            Some(b'\r') => {
                return Ok(Found::Record(Split {
                    content_len: end,
                    terminator_len: 2,
                    inner_newlines,
                }))
            }
            Some(_) => {
                return Ok(Found::Record(Split {
                    content_len: end,
                    terminator_len: 1,
                    inner_newlines,
                }))
            }
        }
    }
}

/// How a run of unquoted fields ended.
enum Run {
    /// The input ends before the line does, and more may come.
    NeedMore,
    /// The next field, starting at this offset, is quoted.
    QuotedFieldAt(usize),
    /// The record ends: content length and line end length.
    RecordEnd(usize, usize),
}

/// Splits the unquoted fields from `at` up to the next quoted field or the
/// end of the record, in one pass over the bytes. This is the engine's
/// hottest loop: one table lookup per byte, and fields are pushed as their
/// commas go by (measured faster than vectorised searches per line or per
/// field, because fields are a few bytes long).
fn split_unquoted_run(
    input: &[u8],
    at: usize,
    at_eof: bool,
    fields: &mut Vec<FieldSpan>,
) -> Result<Run, SplitError> {
    let mut field_start = at;
    let mut index = at;
    while index < input.len() {
        let byte = input[index];
        if !SPECIAL[usize::from(byte)] {
            index += 1;
            continue;
        }
        let error = |problem, fields: &Vec<FieldSpan>| SplitError {
            problem,
            offset: index,
            field: fields.len(),
        };
        match byte {
            b',' => {
                push_plain(fields, field_start..index);
                field_start = index + 1;
            }
            b'\n' => {
                push_plain(fields, field_start..index);
                return Ok(Run::RecordEnd(index, 1));
            }
            b'\r' => match input.get(index + 1) {
                // A `\r` right before the line feed belongs to the line end.
                Some(b'\n') => {
                    push_plain(fields, field_start..index);
                    return Ok(Run::RecordEnd(index, 2));
                }
                None if !at_eof => return Ok(Run::NeedMore),
                _ => return Err(error(Problem::BareCarriageReturn, fields)),
            },
            _ if index == field_start => return Ok(Run::QuotedFieldAt(index)),
            _ => return Err(error(Problem::StrayQuote, fields)),
        }
        index += 1;
    }
    if !at_eof {
        return Ok(Run::NeedMore);
    }
    push_plain(fields, field_start..input.len());
    Ok(Run::RecordEnd(input.len(), 0))
}

fn push_plain(fields: &mut Vec<FieldSpan>, span: Range<usize>) {
    fields.push(FieldSpan {
        raw: span.clone(),
        text: span,
        escaped: false,
    });
}

/// Bytes that end an unquoted field or are not allowed in one.
const SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    table[b',' as usize] = true;
    table[b'\n' as usize] = true;
    table[b'"' as usize] = true;
    table[b'\r' as usize] = true;
    table
};

/// Scans a quoted field starting at `start` (on its opening quote). Returns
/// the end of the field (one past the closing quote), whether it holds doubled
/// quotes and how many line feeds it holds; `None` when more input is needed.
fn scan_quoted(
    input: &[u8],
    start: usize,
    at_eof: bool,
    field: usize,
) -> Result<Option<(usize, bool, u64)>, SplitError> {
    let mut at = start + 1;
    let mut escaped = false;
    let mut newlines = 0u64;
    loop {
        let Some(offset) = memchr(b'"', &input[at..]) else {
            if at_eof {
                return Err(SplitError {
                    problem: Problem::UnterminatedQuote,
                    offset: start,
                    field,
                });
            }
            return Ok(None);
        };
        newlines += count_line_feeds(&input[at..at + offset]);
        let quote = at + offset;
        match input.get(quote + 1) {
            Some(b'"') => {
                escaped = true;
                at = quote + 2;
            }
            Some(b',') | Some(b'\n') => return Ok(Some((quote + 1, escaped, newlines))),
            Some(b'\r') => match input.get(quote + 2) {
                Some(b'\n') => return Ok(Some((quote + 1, escaped, newlines))),
                None if !at_eof => return Ok(None),
                _ => {
                    return Err(SplitError {
                        problem: Problem::BareCarriageReturn,
                        offset: quote + 1,
                        field,
                    })
                }
            },
            None if at_eof => return Ok(Some((quote + 1, escaped, newlines))),
            None => return Ok(None),
            Some(_) => {
                return Err(SplitError {
                    problem: Problem::StrayQuote,
                    offset: quote + 1,
                    field,
                })
            }
        }
    }
}

fn count_line_feeds(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&byte| byte == b'\n').count() as u64
}

/// Decodes a quoted field's text, turning doubled quotes into single ones.
pub(crate) fn unescape_into(text: &str, out: &mut String) {
    let mut rest = text;
    while let Some(at) = rest.find("\"\"") {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 2..];
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_all(input: &str) -> (Split, Vec<String>) {
        let mut fields = Vec::new();
        match split_record(input.as_bytes(), true, &mut fields) {
            Ok(Found::Record(split)) => {
                let texts = fields
                    .iter()
                    .map(|span| input[span.text.clone()].to_owned())
                    .collect();
                (split, texts)
            }
            other => panic!("no record in {input:?}: {other:?}"),
        }
    }

    #[test]
    fn plain_fields_split_on_commas() {
        let (split, fields) = split_all("a,b,,c\nnext");
        assert_eq!(fields, ["a", "b", "", "c"]);
        assert_eq!(split.content_len, 6);
        assert_eq!(split.terminator_len, 1);
    }

    #[test]
    fn quoted_fields_keep_commas_and_line_breaks() {
        let (split, fields) = split_all("\"US, CA\",\"two\nlines\",x\r\n");
        assert_eq!(fields, ["US, CA", "two\nlines", "x"]);
        assert_eq!(split.inner_newlines, 1);
        assert_eq!(split.terminator_len, 2);
    }

    #[test]
    fn crlf_is_a_line_end_not_text() {
        let (split, fields) = split_all("a,b\r\n");
        assert_eq!(fields, ["a", "b"]);
        assert_eq!(split.content_len, 3);
    }

    #[test]
    fn last_record_may_lack_a_line_end() {
        let (split, fields) = split_all("a,\"b\"");
        assert_eq!(fields, ["a", "b"]);
        assert_eq!(split.terminator_len, 0);
    }

    #[test]
    fn doubled_quotes_are_marked_for_unescaping() {
        let mut fields = Vec::new();
        let input = "\"say \"\"hi\"\"\",x\n";
        split_record(input.as_bytes(), true, &mut fields).unwrap();
        assert!(fields[0].escaped);
        let mut out = String::new();
        unescape_into(&input[fields[0].text.clone()], &mut out);
        assert_eq!(out, "say \"hi\"");
    }

    #[test]
    fn stray_quotes_and_bare_carriage_returns_are_refused() {
        let mut fields = Vec::new();
        let err = split_record(b"ab\"c,d\n", true, &mut fields).unwrap_err();
        assert_eq!(
            (err.problem, err.offset, err.field),
            (Problem::StrayQuote, 2, 0)
        );
        let err = split_record(b"x,\"ab\"c\n", true, &mut fields).unwrap_err();
        assert_eq!((err.problem, err.field), (Problem::StrayQuote, 1));
        let err = split_record(b"a\rb,c\n", true, &mut fields).unwrap_err();
        assert_eq!(err.problem, Problem::BareCarriageReturn);
        let err = split_record(b"\"open,c\n", true, &mut fields).unwrap_err();
        assert_eq!(err.problem, Problem::UnterminatedQuote);
    }

    #[test]
    fn incomplete_input_asks_for_more() {
        let mut fields = Vec::new();
        for partial in ["a,b", "a,\"b", "a,\"b\"", "a,b\r", "a,\"b\"\r"] {
            assert_eq!(
                split_record(partial.as_bytes(), false, &mut fields),
                Ok(Found::NeedMore),
                "{partial:?}"
            );
        }
    }
}
