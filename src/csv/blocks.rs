//! Whole-day passes, block by block.
//!
//! Scoring, rules, heuristics and the sort read every record of a day,
//! mapped (see [`crate::io::mapped`]), in blocks of 1 MiB (small enough to stay
//! in the processor's cache from the scan to the visit; smaller blocks cost
//! more in bookkeeping than they gain): each block is indexed by the fast scan
//! ([`crate::csv::scan`]), rows are handed to the caller straight from the index,
//! and a block the scan finds suspect is read record by record by the
//! splitter, which reports any error at its exact line and column. Records
//! with doubled quotes get their escaped fields unescaped into a scratch
//! buffer, as the splitter does.
//!
//! The caller's callback runs on the calling thread, while a thread of its
//! own scans the next blocks ([`crate::csv::scan_ahead`]) and the writing thread
//! of a rewrite (see [`crate::io::durable`]) writes the blocks already visited.
//! (A reading thread was tried before the day was mapped and was no faster:
//! it spent the time saved on copying blocks out of the page cache.)

use crate::csv::records::{Advance, RecordRef, Splitter};
use crate::csv::row::{Row, ScannedRecord};
use crate::csv::scan::{field_span, records_text, scan_text, BlockIndex};
use crate::csv::scan_ahead::{Ahead, ScanAhead};
use crate::csv::schema::Schema;
use crate::csv::split::{unescape_into, FieldSpan};
use crate::error::{Error, Position, Problem};
use crate::io::durable::MappedBlock;
use crate::io::mapped::FileBytes;
use std::fs::File;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

/// Bytes read at a time by a streaming pass: large enough that a read call
/// and a block's bookkeeping are cheap, small enough to stay in cache.
pub(crate) const BLOCK: usize = 1 << 20;

/// Where a record's bytes lie in the block passed to [`BlockPass::records`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Place {
    /// Offset of the record's first byte.
    pub start: usize,
    /// Bytes of the record, line end included.
    pub len: usize,
    /// Whether it ends with a line end (only the file's last record may not).
    pub line_end: bool,
}

/// Reads the data records of blocks, in order, after the header.
pub(crate) struct BlockPass {
    splitter: Splitter,
    schema: Schema,
    /// The line the next record starts on.
    line: u64,
    index: BlockIndex,
    /// The fields and unescaped text of a record with doubled quotes.
    fields: Vec<FieldSpan>,
    scratch: String,
}

impl BlockPass {
    /// A pass over data records starting at `line`, with the header's names
    /// already given to `splitter`.
    pub fn new(splitter: Splitter, schema: Schema) -> BlockPass {
        let line = splitter.next_line();
        BlockPass {
            splitter,
            schema,
            line,
            index: BlockIndex::default(),
            fields: Vec::new(),
            scratch: String::new(),
        }
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Calls `visit` with each whole record at the start of `block` (every
    /// record when `at_eof`), in order, and returns the bytes they take.
    /// `block` must start at a record boundary.
    pub fn records<E: From<Error>>(
        &mut self,
        block: &[u8],
        at_eof: bool,
        visit: &mut impl FnMut(&Row, Place) -> Result<(), E>,
    ) -> Result<usize, E> {
        let width = self.schema.len();
        let mut index = std::mem::take(&mut self.index);
        let read = match scan_text(block, width, &mut index) {
            None => read_split(
                &mut self.splitter,
                &self.schema,
                &mut self.line,
                block,
                0,
                at_eof,
                visit,
            ),
            Some(text) => self
                .visit_scanned(block, text, &index, visit)
                .and_then(|()| {
                    let mut used = text.len();
                    if at_eof && used < block.len() {
                        let BlockPass {
                            splitter,
                            schema,
                            line,
                            ..
                        } = self;
                        used +=
                            read_split(splitter, schema, line, &block[used..], used, true, visit)?;
                    }
                    Ok(used)
                }),
        };
        self.index = index;
        read
    }

    /// Calls `visit` with each record of a clean block scanned into `index`;
    /// `text` is the block's whole records, checked to be UTF-8.
    pub fn visit_scanned<E: From<Error>>(
        &mut self,
        block: &[u8],
        text: &str,
        index: &BlockIndex,
        visit: &mut impl FnMut(&Row, Place) -> Result<(), E>,
    ) -> Result<(), E> {
        let width = self.schema.len();
        let BlockPass {
            splitter,
            schema,
            line,
            fields,
            scratch,
            ..
        } = self;
        let mut start = 0usize;
        for (number, mark) in index.records.iter().enumerate() {
            let next = mark.next as usize;
            let place = Place {
                start,
                len: next - start,
                line_end: true,
            };
            let record = ScannedRecord {
                text,
                start,
                ends: &index.ends[number * width..(number + 1) * width],
                line: *line,
                path: splitter.path(),
            };
            if mark.escaped {
                let record = unescaped(record, &block[start..next], fields, scratch);
                visit(&Row::new(record, schema), place)?;
            } else {
                visit(&Row::scanned(record, schema), place)?;
            }
            *line += 1 + u64::from(mark.inner_newlines);
            start = next;
        }
        Ok(())
    }
}

/// A scanned record with doubled quotes as the splitter would give it: its
/// field spans, and the text of its escaped fields unescaped into `scratch`.
/// `raw` is the record's bytes, line end included.
fn unescaped<'r>(
    scanned: ScannedRecord<'r>,
    raw: &'r [u8],
    fields: &'r mut Vec<FieldSpan>,
    scratch: &'r mut String,
) -> RecordRef<'r> {
    let ScannedRecord {
        text,
        start,
        ends,
        line,
        path,
    } = scanned;
    fields.clear();
    scratch.clear();
    for field in 0..ends.len() {
        let span = field_span(start, ends, field);
        let raw_span = span.start - start..span.end - start;
        let quoted = text.as_bytes()[span.start] == b'"' && span.len() > 1;
        let inner = if quoted {
            span.start + 1..span.end - 1
        } else {
            span.clone()
        };
        let escaped = quoted && text[inner.clone()].contains('"');
        let text_span = if escaped {
            let from = scratch.len();
            unescape_into(&text[inner], scratch);
            from..scratch.len()
        } else {
            inner.start - start..inner.end - start
        };
        fields.push(FieldSpan {
            raw: raw_span,
            text: text_span,
            escaped,
        });
    }
    let content_end = ends.last().map_or(start, |&end| end as usize);
    RecordRef {
        raw,
        content_start: 0,
        content: &text[start..content_end],
        line,
        fields,
        scratch,
        path,
    }
}

/// Reads records of `bytes` with the splitter, from `line`, calling `visit`
/// with places shifted by `offset`; returns the bytes read. Stops at an
/// unfinished record unless `at_eof`.
fn read_split<E: From<Error>>(
    splitter: &mut Splitter,
    schema: &Schema,
    line: &mut u64,
    bytes: &[u8],
    offset: usize,
    at_eof: bool,
    visit: &mut impl FnMut(&Row, Place) -> Result<(), E>,
) -> Result<usize, E> {
    splitter.set_next_line(*line);
    let mut at = 0;
    while splitter.advance(&bytes[at..], at_eof)? == Advance::Record {
        let Some((record, used)) = splitter.take(&bytes[at..])? else {
            break;
        };
        let place = Place {
            start: offset + at,
            len: used,
            line_end: !record.terminator().is_empty(),
        };
        visit(&Row::new(record, schema), place)?;
        at += used;
    }
    *line = splitter.next_line();
    Ok(at)
}

/// Reads the header at the start of `data` (all of the file so far; `at_eof`
/// when that is all): the splitter knowing the header, the schema, and the
/// header's length in bytes. `None` when more input is needed.
pub(crate) fn read_header(
    path: &Path,
    data: &[u8],
    at_eof: bool,
) -> Result<Option<(Splitter, Schema, usize)>, Error> {
    let mut splitter = Splitter::new(path);
    let empty = || Error::content(Position::line(path, 1), Problem::EmptyFile);
    match splitter.advance(data, at_eof)? {
        Advance::Record => {}
        Advance::NeedMore => return Ok(None),
        Advance::End => return Err(empty()),
    }
    let (header, used) = splitter.take(data)?.ok_or_else(empty)?;
    let names: Vec<String> = (0..header.fields.len())
        .map(|index| header.text(index).to_owned())
        .collect();
    let schema = Schema::from_header(path, &names)?;
    splitter.set_header(names);
    Ok(Some((splitter, schema, used)))
}

/// A streaming pass over a flow file, one block of whole records at a time.
///
/// The file is mapped, not read (see [`crate::io::mapped`]): blocks are ranges
/// of the mapping, scanned where the page cache holds them, and written from
/// there by a rewrite, so no byte of the day is copied into the process. A
/// pass gives back what it is done with ([`FileBytes::forget`]) so that it
/// holds a few blocks of the file at a time, not the whole file.
pub(crate) struct BlockReader {
    bytes: Arc<FileBytes>,
    pass: BlockPass,
    header_len: usize,
    /// Where the next block starts.
    at: usize,
    /// Bytes scanned at a time, and the current window (larger while one
    /// record does not fit in a block).
    block: usize,
    window: usize,
    /// The thread scanning the next blocks, until the pass reads the rest
    /// itself (see [`crate::csv::scan_ahead`]).
    ahead: Option<ScanAhead>,
}

impl BlockReader {
    /// Opens a flow file and reads its header.
    pub fn open(path: &Path) -> Result<BlockReader, Error> {
        BlockReader::open_sized(path, BLOCK)
    }

    /// Like `open`, over the open flow file `file` (`path` names it in errors).
    pub fn of_file(file: File, path: &Path) -> Result<BlockReader, Error> {
        BlockReader::over(path, Arc::new(FileBytes::streaming(file, path)?), BLOCK)
    }

    /// Like `open`, scanning `block` bytes at a time.
    fn open_sized(path: &Path, block: usize) -> Result<BlockReader, Error> {
        BlockReader::over(path, Arc::new(FileBytes::open_streaming(path)?), block)
    }

    /// A pass over `bytes`, the contents of the flow file `path`, handing
    /// over `block` bytes at a time.
    pub fn over(path: &Path, bytes: Arc<FileBytes>, block: usize) -> Result<BlockReader, Error> {
        let empty = || Error::content(Position::line(path, 1), Problem::EmptyFile);
        let (splitter, schema, header_len) = read_header(path, &bytes, true)?.ok_or_else(empty)?;
        let ahead = ScanAhead::start(Arc::clone(&bytes), header_len, schema.len(), block.max(1));
        Ok(BlockReader {
            ahead,
            bytes,
            pass: BlockPass::new(splitter, schema),
            header_len,
            at: header_len,
            block: block.max(1),
            window: block.max(1),
        })
    }

    pub fn schema(&self) -> &Schema {
        self.pass.schema()
    }

    /// The header line's raw bytes, line end included.
    pub fn header(&self) -> &[u8] {
        &self.bytes[..self.header_len]
    }

    /// The file's bytes, for writing blocks from them.
    pub fn bytes(&self) -> &Arc<FileBytes> {
        &self.bytes
    }

    /// Where the next block starts in the file.
    pub fn position(&self) -> usize {
        self.at
    }

    /// A block this reader returned, with `changes` (severity digits for
    /// ranges of the file), for a writing thread to write from the mapping.
    pub fn changed_block(
        &self,
        range: Range<usize>,
        changes: Vec<(Range<usize>, u8)>,
    ) -> MappedBlock {
        MappedBlock {
            bytes: Arc::clone(&self.bytes),
            range,
            changes,
        }
    }

    /// Reads the next block of whole records, calling `visit` with each
    /// (places relative to the block's start), and returns where the block
    /// lies in the file; `None` at the end of the file.
    pub fn next_block<E: From<Error>>(
        &mut self,
        visit: &mut impl FnMut(&Row, Place) -> Result<(), E>,
    ) -> Result<Option<Range<usize>>, E> {
        if let Some(block) = self.next_scanned_ahead(visit)? {
            return Ok(Some(block));
        }
        let len = self.bytes.len();
        loop {
            if self.at >= len {
                return Ok(None);
            }
            let end = (self.at + self.window).min(len);
            let at_eof = end == len;
            let used = self
                .pass
                .records(&self.bytes[self.at..end], at_eof, visit)?;
            if used == 0 && !at_eof {
                // One record larger than the window: look further.
                self.window *= 2;
                continue;
            }
            let block = self.at..self.at + used;
            self.at += used;
            self.window = self.block;
            return Ok(Some(block));
        }
    }

    /// The next block from the scanning thread, visited; `None` once the
    /// pass reads on by itself (from where the thread's last block ended).
    fn next_scanned_ahead<E: From<Error>>(
        &mut self,
        visit: &mut impl FnMut(&Row, Place) -> Result<(), E>,
    ) -> Result<Option<Range<usize>>, E> {
        let Some(ahead) = &self.ahead else {
            return Ok(None);
        };
        match ahead.next() {
            Some(Ahead::Block { start, len, index }) => {
                let block = &self.bytes[start..start + len];
                // SAFETY: the scanning thread filled `index` by scanning the bytes from `start`
                // (`scan_ahead`), and `len` of them are its whole records.
                // Not UTF-8: read on by itself, which reports where.
                let Some(text) = (unsafe { records_text(block, &index) }) else {
                    self.ahead = None;
                    return Ok(None);
                };
                self.pass.visit_scanned(block, text, &index, visit)?;
                ahead.give_back(index);
                self.at = start + len;
                Ok(Some(start..start + len))
            }
            Some(Ahead::Rest) => {
                self.ahead = None;
                Ok(None)
            }
            None => Err(Error::io(
                self.pass.splitter.path(),
                "scanning",
                std::io::Error::other("the scanning thread stopped"),
            )
            .into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csv::records::FlowReader;
    use proptest::prelude::*;

    /// One record as read: line, decoded fields, raw bytes, raw bytes of
    /// each field, whether it has a line end.
    type Read = (u64, Vec<String>, Vec<u8>, Vec<Vec<u8>>, bool);

    const HEADER: &str = "sev,tstart,srcIP,dstIP,sport,dport,ipkt,ibyt,lda_score,rank";

    fn describe(row: &Row, raw: &[u8], line_end: bool) -> Read {
        (
            row.line(),
            (0..row.len()).map(|i| row.field(i).to_owned()).collect(),
            raw.to_vec(),
            (0..row.len())
                .map(|i| raw[row.raw_span(i)].to_vec())
                .collect(),
            line_end,
        )
    }

    /// The records of `bytes` as the record splitter reads them.
    fn read_by_splitter(bytes: &[u8]) -> Result<Vec<Read>, String> {
        let path = Path::new("t.csv");
        let mut reader = FlowReader::new(bytes, path, 64);
        let (schema, _) = reader.read_header().map_err(|e| e.to_string())?;
        let mut records = Vec::new();
        while let Some(record) = reader.next_record().map_err(|e| e.to_string())? {
            let line_end = !record.terminator().is_empty();
            records.push(describe(&Row::new(record, &schema), record.raw, line_end));
        }
        Ok(records)
    }

    /// The records of `bytes` read by a block pass over windows of
    /// `window` bytes.
    /// Checks that the records cover the data exactly.
    fn read_by_blocks(bytes: &[u8], window: usize) -> Result<Vec<Read>, String> {
        let path = Path::new("t.csv");
        let (splitter, schema, header_len) = read_header(path, bytes, true)
            .map_err(|e| e.to_string())?
            .ok_or("no header")?;
        let mut pass = BlockPass::new(splitter, schema);
        let mut records = Vec::new();
        let mut at = header_len;
        let mut size = window;
        while at < bytes.len() {
            let end = (at + size).min(bytes.len());
            let block = &bytes[at..end];
            let mut expected_start = 0;
            let used = pass
                .records(block, end == bytes.len(), &mut |row: &Row, place: Place| {
                    assert_eq!(place.start, expected_start, "records are contiguous");
                    expected_start += place.len;
                    let raw = &block[place.start..place.start + place.len];
                    records.push(describe(row, raw, place.line_end));
                    Ok::<(), Error>(())
                })
                .map_err(|e| e.to_string())?;
            assert_eq!(used, expected_start, "the bytes used are the records'");
            size = if used == 0 { size * 2 } else { window };
            at += used;
        }
        Ok(records)
    }

    /// The records of a file read by a streaming `BlockReader` of `block`
    /// bytes; checks that header and blocks put together are the file.
    fn read_streaming(bytes: &[u8], block: usize) -> Result<Vec<Read>, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().join("t.csv");
        std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
        let mut reader = BlockReader::open_sized(&path, block).map_err(|e| e.to_string())?;
        let mut records = Vec::new();
        let mut copy = reader.header().to_vec();
        loop {
            let mut found = Vec::new();
            let next = reader.next_block(&mut |row: &Row, place: Place| {
                found.push((
                    (
                        row.line(),
                        (0..row.len())
                            .map(|i| row.field(i).to_owned())
                            .collect::<Vec<_>>(),
                    ),
                    place,
                ));
                Ok::<(), Error>(())
            });
            let Some(range) =
                next.map_err(|e| e.to_string().replace(&*path.to_string_lossy(), "t.csv"))?
            else {
                break;
            };
            let block = &reader.bytes()[range];
            for ((line, fields), place) in found {
                let raw = block[place.start..place.start + place.len].to_vec();
                records.push((line, fields, raw, Vec::new(), place.line_end));
            }
            copy.extend_from_slice(block);
        }
        assert_eq!(copy, bytes, "the blocks are the file");
        Ok(records)
    }

    /// Records without their fields' raw bytes (the streaming check does not
    /// keep them).
    fn strip_field_bytes(records: &[Read]) -> Vec<Read> {
        records
            .iter()
            .map(|(line, fields, raw, _, end)| {
                (*line, fields.clone(), raw.clone(), Vec::new(), *end)
            })
            .collect()
    }

    fn quoted(field: &str) -> String {
        if field.contains([',', '"', '\n', '\r']) || field.is_empty() {
            format!("\"{}\"", field.replace('"', "\"\""))
        } else {
            field.to_owned()
        }
    }

    /// A file of `rows`, with `damage` applied: (offset, bytes) replacing a
    /// byte or inserting some, to make every kind of bad input.
    fn file(
        rows: &[Vec<String>],
        crlf: bool,
        damage: &[(usize, Vec<u8>)],
        last_line_end: bool,
    ) -> Vec<u8> {
        let line_end = if crlf { "\r\n" } else { "\n" };
        let mut text = format!("{HEADER}{line_end}");
        for row in rows {
            text += &row.iter().map(|f| quoted(f)).collect::<Vec<_>>().join(",");
            text += line_end;
        }
        if !last_line_end {
            text.truncate(text.len() - line_end.len());
        }
        let mut bytes = text.into_bytes();
        let header_len = HEADER.len() + line_end.len();
        for (offset, replacement) in damage {
            if bytes.len() > header_len {
                let at = header_len + offset % (bytes.len() - header_len);
                bytes.splice(at..at + 1, replacement.iter().copied());
            }
        }
        bytes
    }

    fn rows() -> impl Strategy<Value = Vec<Vec<String>>> {
        prop::collection::vec(
            prop::collection::vec(
                prop_oneof![
                    3 => "[a-c0-9]{0,5}",
                    1 => "[a-c0-9,\"\r\n é€😀]{0,7}",
                ],
                10,
            ),
            1..40,
        )
    }

    fn damage() -> impl Strategy<Value = Vec<(usize, Vec<u8>)>> {
        prop::collection::vec(
            (
                any::<usize>(),
                prop::sample::select(vec![
                    b"\"".to_vec(),
                    b",".to_vec(),
                    b"\r".to_vec(),
                    b"\n".to_vec(),
                    b"\n\n".to_vec(),
                    b"\xff".to_vec(),
                    b"\xc3".to_vec(),
                    b"\"\"".to_vec(),
                    b"x".to_vec(),
                ]),
            ),
            0..3,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn block_passes_read_what_the_splitter_reads_with_the_same_errors(
            rows in rows(),
            crlf in any::<bool>(),
            damage in damage(),
            last_line_end in any::<bool>(),
            window in 1usize..600,
        ) {
            let bytes = file(&rows, crlf, &damage, last_line_end);
            let expected = read_by_splitter(&bytes);
            if damage.is_empty() {
                let decoded: Vec<Vec<String>> = expected.as_ref().unwrap().iter().map(|r| r.1.clone()).collect();
                prop_assert_eq!(decoded, rows.clone());
            }
            prop_assert_eq!(read_by_blocks(&bytes, window), expected.clone());
            prop_assert_eq!(read_by_blocks(&bytes, 1 << 20), expected.clone());
            let streamed = read_streaming(&bytes, window);
            let without_field_bytes = expected.map(|records| strip_field_bytes(&records));
            prop_assert_eq!(streamed, without_field_bytes);
        }
    }

    #[test]
    fn a_quoted_field_spanning_many_lines_keeps_line_numbers_right_in_any_block() {
        let mut bytes = format!("{HEADER}\n").into_bytes();
        for row in 0..40 {
            let geo = if row == 20 {
                format!("\"{}\"", "a\n".repeat(200))
            } else {
                "x".to_owned()
            };
            bytes.extend_from_slice(format!("0,t,{geo},d,1,2,3,4,5,{row}\n").as_bytes());
        }
        let expected = read_by_splitter(&bytes).unwrap();
        assert_eq!(
            expected[21].0,
            23 + 200,
            "lines count the line feeds inside quotes"
        );
        for window in [7, 64, 500, 1 << 20] {
            assert_eq!(read_by_blocks(&bytes, window).unwrap(), expected);
            assert_eq!(
                read_streaming(&bytes, window).unwrap(),
                strip_field_bytes(&expected)
            );
        }
    }

    #[test]
    fn a_stray_quote_is_reported_without_reading_the_rest_of_the_file() {
        let mut bytes =
            format!("{HEADER}\n0,t,s,d,1,2,3,4,5,1\n0,t,s\"x,d,1,2,3,4,5,2\n").into_bytes();
        for row in 0..10_000 {
            bytes.extend_from_slice(format!("0,t,s,d,1,2,3,4,5,{row}\n").as_bytes());
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, &bytes).unwrap();
        let mut reader = BlockReader::open_sized(&path, 256).unwrap();
        let error = loop {
            match reader.next_block(&mut |_: &Row, _| Ok::<(), Error>(())) {
                Ok(Some(_)) => {}
                Ok(None) => panic!("the stray quote went unnoticed"),
                Err(error) => break error.to_string(),
            }
        };
        assert!(error.ends_with(":3:3 (column srcIP): a quote inside a field; quote the whole field and double inner quotes"), "{error}");
        assert!(reader.window <= 256, "the window grew to {}", reader.window);
    }
}
