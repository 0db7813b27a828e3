//! The view of one data row that every module of the library works with.

use crate::csv::records::RecordRef;
use crate::csv::scan::field_span;
use crate::csv::schema::{Column, Schema};
use crate::error::{Error, Position, Problem};
use std::ops::Range;
use std::path::Path;

/// One data row of a flow file, borrowed for the duration of a callback.
///
/// Fields are decoded text (quotes removed, doubled quotes undone). A column
/// the header lacks reads as an empty field.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    fields: Fields<'a>,
    schema: &'a Schema,
}

/// Where a row's fields come from: the record splitter, or the block scan
/// (rows without doubled quotes in a clean block; see [`crate::csv::scan`]).
#[derive(Debug, Clone, Copy)]
enum Fields<'a> {
    Split(RecordRef<'a>),
    Scanned(ScannedRecord<'a>),
}

/// A record found by the block scan: field ends into a checked text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScannedRecord<'a> {
    /// The text the offsets point into (the record starts at `start`).
    pub text: &'a str,
    /// Where the record starts in `text`.
    pub start: usize,
    /// Where each field ends in `text` (one per column).
    pub ends: &'a [u32],
    /// 1-based line where the record starts.
    pub line: u64,
    /// The file, for error messages.
    pub path: &'a Path,
}

impl<'a> ScannedRecord<'a> {
    #[inline]
    fn text(&self, index: usize) -> &'a str {
        if index >= self.ends.len() {
            return "";
        }
        let raw = &self.text[field_span(self.start, self.ends, index)];
        // The scan let a quote open a field only at its start and close it
        // only at its end, and left fields with doubled quotes to the splitter.
        match raw.strip_prefix('"') {
            Some(quoted) => &quoted[..quoted.len() - 1],
            None => raw,
        }
    }
}

impl<'a> Row<'a> {
    pub(crate) fn new(record: RecordRef<'a>, schema: &'a Schema) -> Row<'a> {
        Row {
            fields: Fields::Split(record),
            schema,
        }
    }

    pub(crate) fn scanned(record: ScannedRecord<'a>, schema: &'a Schema) -> Row<'a> {
        Row {
            fields: Fields::Scanned(record),
            schema,
        }
    }

    /// The bytes of field `index` as written (quotes included), as a range of
    /// the record's raw bytes (which start with a BOM on the header only).
    pub(crate) fn raw_span(&self, index: usize) -> Range<usize> {
        match &self.fields {
            Fields::Split(record) => {
                let raw = &record.fields[index].raw;
                record.content_start + raw.start..record.content_start + raw.end
            }
            Fields::Scanned(record) => {
                let span = field_span(record.start, record.ends, index);
                span.start - record.start..span.end - record.start
            }
        }
    }

    #[inline]
    fn text(&self, index: usize) -> &'a str {
        match &self.fields {
            Fields::Split(record) => record.text(index),
            Fields::Scanned(record) => record.text(index),
        }
    }

    /// The decoded text of a known column ("" when the header lacks it).
    #[inline]
    pub fn get(&self, column: Column) -> &'a str {
        self.text(self.schema.slot_or_absent(column))
    }

    /// The decoded text of a known column, or `None` when the header lacks it.
    pub fn try_get(&self, column: Column) -> Option<&'a str> {
        self.schema.index(column).map(|index| self.text(index))
    }

    /// The decoded text of the field at `index` (0-based, file order; "" past
    /// the last field).
    pub fn field(&self, index: usize) -> &'a str {
        self.text(index)
    }

    /// Number of fields (the header's width).
    pub fn len(&self) -> usize {
        match &self.fields {
            Fields::Split(record) => record.fields.len(),
            Fields::Scanned(record) => record.ends.len(),
        }
    }

    /// True for a row without fields (never produced: empty lines are errors).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The 1-based line of the file where the row starts.
    pub fn line(&self) -> u64 {
        match &self.fields {
            Fields::Split(record) => record.line,
            Fields::Scanned(record) => record.line,
        }
    }

    /// The file the row comes from.
    pub fn path(&self) -> &'a Path {
        match &self.fields {
            Fields::Split(record) => record.path,
            Fields::Scanned(record) => record.path,
        }
    }

    /// The schema the row is read with.
    pub fn schema(&self) -> &'a Schema {
        self.schema
    }

    /// An error about `column` of this row, positioned at its line and field,
    /// for callers (rules, heuristics) that find a value they cannot use.
    pub fn error(&self, column: Column, problem: Problem) -> Error {
        let index = self.schema.slot_or_absent(column);
        let position = if index == usize::MAX {
            Position::line(self.path(), self.line())
        } else {
            Position::field(self.path(), self.line(), index + 1, Some(column.name()))
        };
        Error::content(position, problem)
    }

    /// The row's severity, 0 (unscored) to 3.
    #[inline]
    pub fn severity(&self) -> Result<u8, Error> {
        let text = self.get(Column::Sev);
        match text.as_bytes() {
            [digit @ b'0'..=b'3'] => Ok(digit - b'0'),
            _ => Err(self.error(Column::Sev, Problem::NotASeverity(text.to_owned()))),
        }
    }

    /// A port column as a number.
    #[inline]
    pub fn port(&self, column: Column) -> Result<u16, Error> {
        let text = self.get(column);
        parse_port(text).ok_or_else(|| self.error(column, Problem::NotAPort(text.to_owned())))
    }

    /// An integer column (packets, bytes, rank...).
    pub fn integer(&self, column: Column) -> Result<i64, Error> {
        let text = self.get(column);
        text.parse()
            .map_err(|_| self.error(column, Problem::NotAnInteger(text.to_owned())))
    }

    /// A numeric column (`lda_score`...).
    pub fn number(&self, column: Column) -> Result<f64, Error> {
        let text = self.get(column);
        text.parse()
            .map_err(|_| self.error(column, Problem::NotANumber(text.to_owned())))
    }
}

/// A port as written in flow files: decimal digits, 0..=65535.
#[inline]
pub(crate) fn parse_port(text: &str) -> Option<u16> {
    if text.is_empty() {
        return None;
    }
    let mut value = 0u32;
    for byte in text.bytes() {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value * 10 + u32::from(digit);
        if value > u32::from(u16::MAX) {
            return None;
        }
    }
    u16::try_from(value).ok()
}

#[cfg(test)]
mod tests {
    use super::parse_port;

    #[test]
    fn ports_read_like_the_standard_parser_reads_digits() {
        for text in [
            "0",
            "80",
            "65535",
            "65536",
            "0080",
            "000000000000443",
            "",
            "+80",
            "-1",
            "8 0",
            "80x",
            "99999999999999999999",
            "٣",
        ] {
            let expected = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
                text.parse::<u16>().ok()
            } else {
                None
            };
            assert_eq!(parse_port(text), expected, "{text:?}");
        }
    }
}
