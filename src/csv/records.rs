//! Reading a flow file record by record, with positions for every error.
//!
//! [`Splitter`] turns bytes into [`RecordRef`]s: it checks UTF-8, counts
//! lines, unescapes quoted fields only when they hold doubled quotes, and
//! checks that every row has as many fields as the header. [`FlowReader`]
//! feeds it from any `Read` through a fixed buffer, so a pass over a day costs
//! constant memory. Whole-day passes ([`crate::csv::blocks`]) scan blocks faster
//! and hand the splitter the records that need it: escaped ones, and every
//! record of a block that may hold an error, so errors read the same.

use crate::csv::schema::Schema;
use crate::csv::split::{split_record, unescape_into, FieldSpan, Found, SplitError};
use crate::error::{Error, Position, Problem};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// One record, borrowed from the reader's buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecordRef<'a> {
    /// All bytes of the record as in the file: BOM (header only), content, line end.
    pub raw: &'a [u8],
    /// Where the content starts in `raw` (3 after a BOM, else 0).
    pub content_start: usize,
    /// The content (line end excluded), known to be UTF-8.
    pub content: &'a str,
    /// 1-based line where the record starts.
    pub line: u64,
    /// Field spans relative to `content`; for `escaped` fields `text` is a
    /// range of `scratch` instead.
    pub fields: &'a [FieldSpan],
    /// Unescaped text of the fields that held doubled quotes.
    pub scratch: &'a str,
    /// The file, for error messages.
    pub path: &'a Path,
}

impl<'a> RecordRef<'a> {
    /// The decoded text of field `index` (empty when there is no such field).
    pub fn text(&self, index: usize) -> &'a str {
        match self.fields.get(index) {
            Some(span) if span.escaped => &self.scratch[span.text.clone()],
            Some(span) => &self.content[span.text.clone()],
            None => "",
        }
    }

    /// The line end bytes (empty for a last line without one).
    pub fn terminator(&self) -> &'a [u8] {
        &self.raw[self.content_start + self.content.len()..]
    }
}

/// The outcome of looking for the next record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Advance {
    /// A whole record is at the start of the input: [`Splitter::take`] it.
    Record,
    /// The input ends inside a record: give more.
    NeedMore,
    /// No input left at the end of the file.
    End,
}

/// A record found by `advance`, waiting for `take`.
#[derive(Debug, Clone, Copy)]
struct Pending {
    content_start: usize,
    content_len: usize,
    used: usize,
    inner_newlines: u64,
}

/// Turns input bytes into checked records, remembering where it is in the file.
///
/// Finding a record (`advance`) and borrowing it (`take`) are two calls so
/// that a reader can refill its buffer between them without fighting the
/// borrow checker.
pub(crate) struct Splitter {
    path: PathBuf,
    next_line: u64,
    fields: Vec<FieldSpan>,
    scratch: String,
    header: Option<Vec<String>>,
    pending: Option<Pending>,
}

impl Splitter {
    pub fn new(path: &Path) -> Splitter {
        Splitter {
            path: path.to_path_buf(),
            next_line: 1,
            fields: Vec::with_capacity(32),
            scratch: String::new(),
            header: None,
            pending: None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The line the next record starts on.
    pub fn next_line(&self) -> u64 {
        self.next_line
    }

    /// Continues at `line`, for a caller that read records up to there itself.
    pub fn set_next_line(&mut self, line: u64) {
        self.next_line = line;
    }

    /// Tells the splitter the header's names, so that rows are checked against
    /// its width and errors can name columns.
    pub fn set_header(&mut self, names: Vec<String>) {
        self.header = Some(names);
    }

    /// Looks for the next record at the start of `input` and checks its shape.
    pub fn advance(&mut self, input: &[u8], at_eof: bool) -> Result<Advance, Error> {
        self.pending = None;
        if input.is_empty() {
            return Ok(if at_eof {
                Advance::End
            } else {
                Advance::NeedMore
            });
        }
        let content_start = if self.next_line == 1 && input.starts_with(UTF8_BOM) {
            UTF8_BOM.len()
        } else if self.next_line == 1 && UTF8_BOM.starts_with(input) && !at_eof {
            return Ok(Advance::NeedMore);
        } else {
            0
        };
        let body = &input[content_start..];
        let split = match split_record(body, at_eof, &mut self.fields) {
            Ok(Found::Record(split)) => split,
            Ok(Found::NeedMore) => return Ok(Advance::NeedMore),
            Err(error) => return Err(self.split_error(body, error)),
        };
        self.check_width(&body[..split.content_len])?;
        self.pending = Some(Pending {
            content_start,
            content_len: split.content_len,
            used: content_start + split.content_len + split.terminator_len,
            inner_newlines: split.inner_newlines,
        });
        Ok(Advance::Record)
    }

    /// Borrows the record `advance` found (given the same input), checking
    /// that it is UTF-8; returns it with the number of input bytes it used.
    pub fn take<'s>(
        &'s mut self,
        input: &'s [u8],
    ) -> Result<Option<(RecordRef<'s>, usize)>, Error> {
        let Some(pending) = self.pending.take() else {
            return Ok(None);
        };
        let line = self.next_line;
        let body = &input[pending.content_start..pending.content_start + pending.content_len];
        let content = std::str::from_utf8(body).map_err(|error| {
            let offset = error.valid_up_to();
            let field = self
                .fields
                .iter()
                .position(|span| span.raw.end > offset)
                .unwrap_or(0);
            self.error_at(line, &body[..offset], field, Problem::InvalidUtf8)
        })?;
        self.unescape(content);
        self.next_line = line + pending.inner_newlines + 1;
        Ok(Some((
            RecordRef {
                raw: &input[..pending.used],
                content_start: pending.content_start,
                content,
                line,
                fields: &self.fields,
                scratch: &self.scratch,
                path: &self.path,
            },
            pending.used,
        )))
    }

    fn check_width(&self, content: &[u8]) -> Result<(), Error> {
        let line = self.next_line;
        if content.is_empty() {
            return Err(Error::content(
                Position::line(&self.path, line),
                Problem::EmptyLine,
            ));
        }
        if let Some(names) = &self.header {
            if names.len() != self.fields.len() {
                return Err(Error::content(
                    Position::line(&self.path, line),
                    Problem::RaggedRow {
                        expected: names.len(),
                        found: self.fields.len(),
                    },
                ));
            }
        }
        Ok(())
    }

    /// Decodes fields holding doubled quotes into `scratch` and points their
    /// spans there.
    fn unescape(&mut self, content: &str) {
        self.scratch.clear();
        for span in self.fields.iter_mut().filter(|span| span.escaped) {
            let start = self.scratch.len();
            unescape_into(&content[span.text.clone()], &mut self.scratch);
            span.text = start..self.scratch.len();
        }
    }

    fn split_error(&self, body: &[u8], error: SplitError) -> Error {
        let offset = error.offset.min(body.len());
        self.error_at(self.next_line, &body[..offset], error.field, error.problem)
    }

    /// An error in field `field` (0-based) of the record starting at `line`,
    /// `before` being the record's bytes before the problem.
    fn error_at(&self, line: u64, before: &[u8], field: usize, problem: Problem) -> Error {
        let line = line + memchr::memchr_iter(b'\n', before).count() as u64;
        let name = self
            .header
            .as_ref()
            .and_then(|names| names.get(field))
            .map(String::as_str);
        Error::content(Position::field(&self.path, line, field + 1, name), problem)
    }
}

/// Reads the records of a flow file through a fixed-size buffer.
pub(crate) struct FlowReader<R> {
    source: R,
    buffer: Vec<u8>,
    start: usize,
    end: usize,
    at_eof: bool,
    splitter: Splitter,
}

/// Buffer size for streaming passes: large enough that read calls are cheap,
/// small enough that scoring a day stays far below the memory budget.
#[cfg(feature = "panel")]
const READ_BUFFER: usize = 256 * 1024;

impl FlowReader<File> {
    /// Opens a flow file for reading only its first rows.
    pub fn open_small(path: &Path) -> Result<FlowReader<File>, Error> {
        let file = File::open(path).map_err(|e| Error::io(path, "opening for reading", e))?;
        Ok(FlowReader::small(file, path))
    }
}

impl<R: Read> FlowReader<R> {
    /// Reads a whole flow file from `source` in one pass (the panel's index reads the whole
    /// day this way; `path` names it in errors).
    #[cfg(feature = "panel")]
    pub fn whole(source: R, path: &Path) -> FlowReader<R> {
        FlowReader::new(source, path, READ_BUFFER)
    }

    /// Reads only the first rows of a flow file from `source` (`path` names it in errors).
    pub fn small(source: R, path: &Path) -> FlowReader<R> {
        FlowReader::new(source, path, 16 * 1024)
    }

    pub fn new(source: R, path: &Path, buffer_size: usize) -> FlowReader<R> {
        FlowReader {
            source,
            buffer: vec![0; buffer_size.max(64)],
            start: 0,
            end: 0,
            at_eof: false,
            splitter: Splitter::new(path),
        }
    }

    /// Reads the header (once, first) and returns the schema it defines, and
    /// the header's raw bytes.
    pub fn read_header(&mut self) -> Result<(Schema, Vec<u8>), Error> {
        let path = self.splitter.path().to_path_buf();
        let (names, raw) = match self.next_record()? {
            Some(header) => (
                (0..header.fields.len())
                    .map(|index| header.text(index).to_owned())
                    .collect::<Vec<_>>(),
                header.raw.to_vec(),
            ),
            None => return Err(Error::content(Position::line(&path, 1), Problem::EmptyFile)),
        };
        let schema = Schema::from_header(&path, &names)?;
        self.splitter.set_header(names);
        Ok((schema, raw))
    }

    /// The next record, or `None` at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<RecordRef<'_>>, Error> {
        loop {
            let input = &self.buffer[self.start..self.end];
            match self.splitter.advance(input, self.at_eof)? {
                Advance::Record => break,
                Advance::End => return Ok(None),
                Advance::NeedMore => self.fill()?,
            }
        }
        let input = &self.buffer[self.start..self.end];
        match self.splitter.take(input)? {
            Some((record, used)) => {
                self.start += used;
                Ok(Some(record))
            }
            None => Ok(None),
        }
    }

    /// Moves the unread bytes to the front, grows the buffer if a record does
    /// not fit, and reads more.
    fn fill(&mut self) -> Result<(), Error> {
        if self.start > 0 {
            self.buffer.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buffer.len() {
            self.buffer.resize(self.buffer.len() * 2, 0);
        }
        let read = loop {
            match self.source.read(&mut self.buffer[self.end..]) {
                Ok(read) => break read,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(self.splitter.path(), "reading", e)),
            }
        };
        if read == 0 {
            self.at_eof = true;
        }
        self.end += read;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One record as (line, decoded fields, raw bytes).
    type ReadRecord = (u64, Vec<String>, Vec<u8>);

    /// All records of `bytes`, read through a buffer of `buffer_size` bytes.
    fn read_all(bytes: &[u8], buffer_size: usize) -> Result<Vec<ReadRecord>, String> {
        let mut reader = FlowReader::new(bytes, Path::new("t.csv"), buffer_size);
        let mut records = Vec::new();
        loop {
            match reader.next_record() {
                Ok(Some(record)) => records.push((
                    record.line,
                    (0..record.fields.len())
                        .map(|i| record.text(i).to_owned())
                        .collect(),
                    record.raw.to_vec(),
                )),
                Ok(None) => return Ok(records),
                Err(error) => return Err(error.to_string()),
            }
        }
    }

    fn quoted(field: &str) -> String {
        if field.contains([',', '"', '\n', '\r']) || field.is_empty() {
            format!("\"{}\"", field.replace('"', "\"\""))
        } else {
            field.to_owned()
        }
    }

    proptest! {
        #[test]
        fn records_read_the_same_through_any_buffer_size(
            rows in prop::collection::vec(prop::collection::vec("[a-c,\"\r\n é]{0,6}", 3), 1..12),
            crlf in any::<bool>(),
            buffer_size in 1usize..200,
        ) {
            let line_end = if crlf { "\r\n" } else { "\n" };
            let text: String = rows
                .iter()
                .map(|row| row.iter().map(|f| quoted(f)).collect::<Vec<_>>().join(",") + line_end)
                .collect();
            let whole = read_all(text.as_bytes(), 1 << 16).unwrap();
            prop_assert_eq!(&read_all(text.as_bytes(), buffer_size).unwrap(), &whole);
            let decoded: Vec<Vec<String>> = whole.iter().map(|(_, fields, _)| fields.clone()).collect();
            prop_assert_eq!(decoded, rows.clone());
            let raw: Vec<u8> = whole.iter().flat_map(|(_, _, raw)| raw.clone()).collect();
            prop_assert_eq!(raw, text.as_bytes().to_vec());
            // Line numbers count the line breaks inside quoted fields.
            let mut line = 1;
            for ((record_line, _, _), row) in whole.iter().zip(&rows) {
                prop_assert_eq!(*record_line, line);
                line += 1 + row.iter().map(|f| f.matches('\n').count() as u64).sum::<u64>();
            }
        }
    }

    #[test]
    fn a_bom_is_kept_in_the_raw_header_but_not_in_its_text() {
        let records = read_all("\u{feff}sev,x\n0,1\n".as_bytes(), 2).unwrap();
        assert_eq!(records[0].1, ["sev", "x"]);
        assert!(records[0].2.starts_with(b"\xEF\xBB\xBF"));
        assert_eq!(records[1].0, 2);
    }

    #[test]
    fn an_error_after_a_multi_line_field_names_the_right_line() {
        let error = read_all(b"a,b\n\"x\ny\",c\"\n", 4).unwrap_err();
        assert_eq!(
            error,
            "t.csv:3:2: a quote inside a field; quote the whole field and double inner quotes"
        );
    }
}
