//! Save and sort: the order the analyst works in.
//!
//! Unscored rows first, most suspicious first (`lda_score` ascending, ties by
//! `rank`, then by current order), then the scored rows grouped by severity 1,
//! 2, 3, each group in its current order. The original sorted by
//! `(int(sev), float(row[11]))`, that is by `rank`, scored groups included;
//! on files where rank follows the score the unscored order is the same.
//!
//! Sorting needs every key before the order is known, so the file is mapped
//! into memory whole ([`crate::io::mapped`]: the page cache itself, no copy;
//! only offsets and keys are kept besides). The rows go from the mapping
//! straight to `.new` in `writev` batches ([`crate::io::gather`]), rows that stay
//! next to each other as one piece, and `.new` is renamed over
//! `flow_scores.csv`. Every row keeps its bytes; a last row without a line
//! end gets the header's line end if it moves away from the end.
//!
//! Days usually come in score order, and scoring only moves rows to the
//! end, so the rows at the start of the file that are in order are written
//! to `.new` on a second thread while the rest is still being read
//! ([`crate::io::write_ahead`]). Once the order is known, the sort keeps what
//! of them stayed in place and cuts the rest off. At worst (a file in order
//! but for a last row that goes first) that is one wasted copy of the file,
//! made on the other core.

use crate::csv::blocks::{BlockReader, Place, BLOCK};
use crate::csv::row::Row;
use crate::csv::schema::Column;
use crate::day::paths::DayPaths;
use crate::day::recovery::lock_and_recover;
use crate::error::Error;
use crate::io::durable::{drop_in_background, remove_if_present, replace};
use crate::io::gather::GatherWriter;
use crate::io::mapped::FileBytes;
use crate::io::write_ahead::{Handed, WriteAhead};
use std::iter::Peekable;
use std::ops::Range;
use std::sync::Arc;
use std::thread::Scope;

/// What save-and-sort did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SortReport {
    /// Data rows written.
    pub rows: u64,
    /// Unscored rows (now first).
    pub unscored: u64,
    /// Scored rows by severity 1, 2, 3.
    pub by_severity: [u64; 3],
}

/// One row's place in the file and its severity.
struct Entry {
    start: usize,
    len: usize,
    has_line_end: bool,
    severity: u8,
}

/// The sort key of an unscored row: `lda_score`, `rank`, then its place in
/// the file (which makes an unstable sort keep the current order of ties).
struct Key {
    lda_score: f64,
    rank: f64,
    entry: usize,
}

/// Sorts the day's file (see the module docs).
pub(crate) fn save_and_sort(paths: &DayPaths) -> Result<SortReport, Error> {
    let _lock = lock_and_recover(paths)?;
    let data = Arc::new(FileBytes::open(&paths.flow)?);
    let rows = BlockReader::over(&paths.flow, Arc::clone(&data), BLOCK)?;
    let written = std::thread::scope(|scope| write_sorted(paths, &data, rows, scope));
    let entries = match written {
        Ok(entries) => entries,
        Err(error) => {
            // Bad input changes nothing: no temporary is left behind either.
            let _ = remove_if_present(&paths.new);
            return Err(error);
        }
    };
    let replaced = replace(&paths.new, &paths.flow, &paths.dir);
    // The old version's last handle: freeing it is slow (see
    // `drop_in_background`) and nobody waits for it.
    drop_in_background(data);
    replaced?;
    Ok(report(&entries))
}

/// Writes the sorted file to `.new` and flushes it to disk; returns the
/// rows. The rows already in order at the start of the file are written on
/// a second thread while the rest is indexed ([`WriteAhead`]); what of them
/// the sort moves is cut off again.
fn write_sorted<'s, 'd: 's>(
    paths: &DayPaths,
    file: &'d FileBytes,
    rows: BlockReader,
    scope: &'s Scope<'s, '_>,
) -> Result<Vec<Entry>, Error> {
    let data: &'d [u8] = file;
    let mut ahead = WriteAhead::start(scope, GatherWriter::create(&paths.new, &paths.flow)?, data);
    let indexed = index(rows, &mut |ranges, handed| ahead.hand(ranges, handed));
    let (mut out, handed) = ahead.finish()?;
    let (header_len, line_end, entries, keys) = indexed?;
    let order = Order::new(&entries, keys);
    let mut rows = order.rows().peekable();
    let kept = in_place(&mut rows, &entries, handed.rows, header_len);
    debug_assert!(kept.output_end <= handed.end, "only handed bytes are kept");
    out.truncate(kept.output_end as u64)?;
    // The file up to the first row not yet written will not be read again:
    // its cache can go while the rest is written and flushed.
    let done_with = entries
        .iter()
        .find(|entry| entry.severity != 0)
        .map_or(kept.file_end, |scored| scored.start.min(kept.file_end));
    scope.spawn(move || file.forget_cached_prefix(done_with));
    write_rows(&mut out, data, kept.file_end, line_end, &entries, rows)?;
    out.finish()?;
    Ok(entries)
}

/// The rows written ahead that the sort leaves where they are.
struct Kept {
    /// Where the last of them ends in the file (the header's end if none).
    file_end: usize,
    /// Where they end in the output (after the header).
    output_end: usize,
}

/// Which of the `handed` rows written ahead (the first unscored rows, in file
/// order) open the output in that order; takes them from `order`.
fn in_place(
    order: &mut Peekable<impl Iterator<Item = usize>>,
    entries: &[Entry],
    handed: usize,
    header_len: usize,
) -> Kept {
    let mut kept = Kept {
        file_end: header_len,
        output_end: header_len,
    };
    let unscored = entries
        .iter()
        .enumerate()
        .filter(|(_, entry)| entry.severity == 0);
    for (index, entry) in unscored.take(handed) {
        if order.next_if_eq(&index).is_none() {
            break;
        }
        kept.file_end = entry.start + entry.len;
        kept.output_end += entry.len;
    }
    kept
}

/// Counts the rows by severity.
fn report(entries: &[Entry]) -> SortReport {
    let mut report = SortReport {
        rows: entries.len() as u64,
        ..SortReport::default()
    };
    for entry in entries {
        match entry.severity {
            0 => report.unscored += 1,
            severity => report.by_severity[usize::from(severity - 1)] += 1,
        }
    }
    report
}

/// Writes the rows of `order` (indexes into `entries`), the rest of the
/// output after the rows already written (which end at byte `from` of
/// `data`). Rows that follow each other in the file are written as one
/// piece, straight from `data`; a last row without a line end gets
/// `line_end` when it is not last any more.
fn write_rows<'d>(
    out: &mut GatherWriter<'d>,
    data: &'d [u8],
    from: usize,
    line_end: &'d [u8],
    entries: &[Entry],
    order: impl Iterator<Item = usize>,
) -> Result<(), Error> {
    let mut run: Range<usize> = from..from;
    let mut order = order.peekable();
    while let Some(index) = order.next() {
        let entry = &entries[index];
        if entry.start != run.end {
            out.push(&data[run])?;
            run = entry.start..entry.start;
        }
        run.end += entry.len;
        if !entry.has_line_end && order.peek().is_some() {
            out.push(&data[run.clone()])?;
            out.push(line_end)?;
            run = run.end..run.end;
        }
    }
    out.push(&data[run])
}

/// What [`index`] finds: the header's length and line end, every row, and
/// the keys of the unscored rows.
type Indexed = (usize, &'static [u8], Vec<Entry>, Vec<Key>);

/// Splits the file into rows with their keys, a block at a time. Hands the
/// header to `ahead`, then, every [`HAND_EVERY`] bytes or so, the rows so far
/// that are already in order.
fn index(
    mut rows: BlockReader,
    ahead: &mut impl FnMut(Vec<Range<usize>>, Handed),
) -> Result<Indexed, Error> {
    let header_len = rows.position();
    let line_end: &'static [u8] = match rows.header() {
        [.., b'\r', b'\n'] => b"\r\n",
        _ => b"\n",
    };
    let mut prefix = SortedPrefix::new(header_len);
    if let Some((ranges, handed)) = prefix.take() {
        ahead(ranges, handed);
    }

    let rows_expected = rows.bytes().len() / 160;
    let mut entries = Vec::with_capacity(rows_expected);
    let mut keys = Vec::with_capacity(rows_expected);
    loop {
        let block_start = rows.position();
        let mut visit = |row: &Row, place: Place| -> Result<(), Error> {
            let severity = row.severity()?;
            let start = block_start + place.start;
            let key = match severity {
                0 => Some(Key {
                    lda_score: row.number(Column::LdaScore)?,
                    rank: row.number(Column::Rank)?,
                    entry: entries.len(),
                }),
                _ => None,
            };
            let row = start..start + place.len;
            if let Some((ranges, handed)) = prefix.next_row(key.as_ref(), row, place.line_end) {
                ahead(ranges, handed);
            }
            keys.extend(key);
            entries.push(Entry {
                start,
                len: place.len,
                has_line_end: place.line_end,
                severity,
            });
            Ok(())
        };
        if rows.next_block(&mut visit)?.is_none() {
            break;
        }
    }
    if let Some((ranges, handed)) = prefix.take() {
        ahead(ranges, handed);
    }
    Ok((header_len, line_end, entries, keys))
}

/// Bytes of rows in order gathered before they are handed to the writer.
const HAND_EVERY: usize = 1 << 20;

/// The unscored rows from the start of the file that are in sorted order so
/// far (keys that do not decrease; scored rows in between are skipped, as
/// the sort moves them to the end). The sort is likely to open the output
/// with them, in this order.
struct SortedPrefix {
    /// The rows in order so far, and the output bytes they end at.
    sorted: Handed,
    /// Ranges of the file (the header, rows in order) not handed yet, and
    /// their bytes.
    batch: Vec<Range<usize>>,
    batch_bytes: usize,
    /// The key of the last row in order, `None` before the first row.
    last: Option<(f64, f64)>,
    /// False from the first unscored row out of order on.
    growing: bool,
}

impl SortedPrefix {
    fn new(header_len: usize) -> SortedPrefix {
        SortedPrefix {
            sorted: Handed {
                rows: 0,
                end: header_len,
            },
            // The header goes first.
            batch: std::iter::once(0..header_len).collect(),
            batch_bytes: header_len,
            last: None,
            growing: true,
        }
    }

    /// Takes the next row (its key when unscored, its bytes in the file and
    /// whether it has a line end); returns rows in order to hand to the
    /// writer when enough have gathered.
    fn next_row(
        &mut self,
        key: Option<&Key>,
        row: Range<usize>,
        has_line_end: bool,
    ) -> Option<(Vec<Range<usize>>, Handed)> {
        // Scored rows are skipped: they go to the end.
        let key = key?;
        let key = (key.lda_score, key.rank);
        // A row without a line end (the file's last) may not stay last:
        // it is left to the sort, which gives it one.
        self.growing =
            self.growing && has_line_end && self.last.is_none_or(|last| !is_before(key, last));
        if !self.growing {
            return None;
        }
        self.last = Some(key);
        self.sorted = Handed {
            rows: self.sorted.rows + 1,
            end: self.sorted.end + row.len(),
        };
        self.batch_bytes += row.len();
        match self.batch.last_mut() {
            Some(run) if run.end == row.start => run.end = row.end,
            _ => self.batch.push(row),
        }
        if self.batch_bytes < HAND_EVERY {
            return None;
        }
        self.take()
    }

    /// The rows in order not handed yet, if any, and what is handed with them.
    fn take(&mut self) -> Option<(Vec<Range<usize>>, Handed)> {
        if self.batch.is_empty() {
            return None;
        }
        self.batch_bytes = 0;
        Some((std::mem::take(&mut self.batch), self.sorted))
    }
}

/// Whether key `a` sorts before key `b` (`lda_score`, then `rank`).
fn is_before(a: (f64, f64), b: (f64, f64)) -> bool {
    a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)).is_lt()
}

/// The output order: the unscored rows by key, then the scored rows by
/// severity, each group in file order.
struct Order {
    keys: Vec<Key>,
    by_severity: [Vec<usize>; 3],
}

impl Order {
    fn new(entries: &[Entry], mut keys: Vec<Key>) -> Order {
        keys.sort_unstable_by(|a, b| {
            a.lda_score
                .total_cmp(&b.lda_score)
                .then(a.rank.total_cmp(&b.rank))
                .then(a.entry.cmp(&b.entry))
        });
        let mut by_severity: [Vec<usize>; 3] = Default::default();
        // No pass over the entries when nothing is scored.
        if keys.len() < entries.len() {
            for (index, entry) in entries.iter().enumerate() {
                if let Some(group) = usize::from(entry.severity).checked_sub(1) {
                    by_severity[group].push(index);
                }
            }
        }
        Order { keys, by_severity }
    }

    /// The rows in output order, as indexes into the entries (read from the
    /// sorted keys: no list of a million indexes to build).
    fn rows(&self) -> impl Iterator<Item = usize> + '_ {
        let unscored = self.keys.iter().map(|key| key.entry);
        unscored.chain(self.by_severity.iter().flatten().copied())
    }
}
