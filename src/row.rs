//! The view of one data row that every module of the library works with.

use crate::error::{Error, Position, Problem};
use crate::records::RecordRef;
use crate::schema::{Column, Schema};
use std::path::Path;

/// One data row of a flow file, borrowed for the duration of a callback.
///
/// Fields are decoded text (quotes removed, doubled quotes undone). A column
/// the header lacks reads as an empty field.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    record: RecordRef<'a>,
    schema: &'a Schema,
}

impl<'a> Row<'a> {
    pub(crate) fn new(record: RecordRef<'a>, schema: &'a Schema) -> Row<'a> {
        Row { record, schema }
    }

    /// The decoded text of a known column ("" when the header lacks it).
    pub fn get(&self, column: Column) -> &'a str {
        self.record.text(self.schema.slot_or_absent(column))
    }

    /// The decoded text of a known column, or `None` when the header lacks it.
    pub fn try_get(&self, column: Column) -> Option<&'a str> {
        self.schema
            .index(column)
            .map(|index| self.record.text(index))
    }

    /// The decoded text of the field at `index` (0-based, file order; "" past
    /// the last field).
    pub fn field(&self, index: usize) -> &'a str {
        self.record.text(index)
    }

    /// Number of fields (the header's width).
    pub fn len(&self) -> usize {
        self.record.fields.len()
    }

    /// True for a row without fields (never produced: empty lines are errors).
    pub fn is_empty(&self) -> bool {
        self.record.fields.is_empty()
    }

    /// The 1-based line of the file where the row starts.
    pub fn line(&self) -> u64 {
        self.record.line
    }

    /// The file the row comes from.
    pub fn path(&self) -> &'a Path {
        self.record.path
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
            Position::line(self.record.path, self.record.line)
        } else {
            Position::field(
                self.record.path,
                self.record.line,
                index + 1,
                Some(column.name()),
            )
        };
        Error::content(position, problem)
    }

    /// The row's severity, 0 (unscored) to 3.
    pub fn severity(&self) -> Result<u8, Error> {
        let text = self.get(Column::Sev);
        match text.as_bytes() {
            [digit @ b'0'..=b'3'] => Ok(digit - b'0'),
            _ => Err(self.error(Column::Sev, Problem::NotASeverity(text.to_owned()))),
        }
    }

    /// A port column as a number.
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
pub(crate) fn parse_port(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}
