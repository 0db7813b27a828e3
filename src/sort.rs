//! Save and sort: the order the analyst works in.
//!
//! Unscored rows first, most suspicious first (`lda_score` ascending, ties by
//! `rank`, then by current order), then the scored rows grouped by severity 1,
//! 2, 3, each group in its current order. The original sorted by
//! `(int(sev), float(row[11]))`, that is by `rank`, scored groups included;
//! on files where rank follows the score the unscored order is the same.
//!
//! Sorting needs every key before the first row can be written, so the file
//! is mapped into memory whole ([`crate::mapped`]: the page cache itself, no
//! copy; only offsets and keys are kept besides). The rows go from the
//! mapping straight to `.new` in `writev` batches ([`crate::gather`]), rows
//! that stay next to each other as one piece, and `.new` is renamed over
//! `flow_scores.csv`. Every row keeps its bytes; a last row without a line
//! end gets the header's line end if it moves away from the end.

use crate::blocks::{read_header, BlockPass, Place, BLOCK};
use crate::durable::replace;
use crate::error::{Error, Position, Problem};
use crate::gather::GatherWriter;
use crate::mapped::FileBytes;
use crate::paths::DayPaths;
use crate::row::Row;
use crate::schema::Column;
use crate::update::lock_and_recover;
use std::ops::Range;

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
    let data = FileBytes::open(&paths.flow)?;
    let (header_len, line_end, entries, keys) = index(paths, &data)?;
    let order = sorted(&entries, keys);

    let mut out = GatherWriter::create(&paths.new)?;
    write_rows(&mut out, &data, header_len, line_end, &entries, &order)?;
    out.finish()?;
    replace(&paths.new, &paths.flow, &paths.dir)?;

    let mut report = SortReport {
        rows: entries.len() as u64,
        ..SortReport::default()
    };
    for entry in &entries {
        match entry.severity {
            0 => report.unscored += 1,
            severity => report.by_severity[usize::from(severity - 1)] += 1,
        }
    }
    Ok(report)
}

/// Writes the header, then the rows in `order`. Rows that follow each other
/// in the file are written as one piece, straight from `data`; a last row
/// without a line end gets `line_end` when it is not last any more.
fn write_rows<'d>(
    out: &mut GatherWriter<'d>,
    data: &'d [u8],
    header_len: usize,
    line_end: &'d [u8],
    entries: &[Entry],
    order: &[usize],
) -> Result<(), Error> {
    let mut run: Range<usize> = 0..header_len;
    let last = order.len().saturating_sub(1);
    for (at, &index) in order.iter().enumerate() {
        let entry = &entries[index];
        if entry.start != run.end {
            out.push(&data[run])?;
            run = entry.start..entry.start;
        }
        run.end += entry.len;
        if !entry.has_line_end && at != last {
            out.push(&data[run.clone()])?;
            out.push(line_end)?;
            run = run.end..run.end;
        }
    }
    out.push(&data[run])
}

/// What [`index`] finds: the header's length and line end, every row, and
/// the keys of the unscored rows.
type Indexed<'d> = (usize, &'d [u8], Vec<Entry>, Vec<Key>);

/// Splits the file into rows with their keys, a block at a time.
fn index<'d>(paths: &DayPaths, data: &'d [u8]) -> Result<Indexed<'d>, Error> {
    let empty = || Error::content(Position::line(&paths.flow, 1), Problem::EmptyFile);
    let (splitter, schema, header_len) = read_header(&paths.flow, data, true)?.ok_or_else(empty)?;
    let line_end: &[u8] = match &data[..header_len] {
        [.., b'\r', b'\n'] => b"\r\n",
        _ => b"\n",
    };
    let mut pass = BlockPass::new(splitter, schema);

    let mut entries = Vec::with_capacity(data.len() / 160);
    let mut keys = Vec::with_capacity(data.len() / 160);
    let mut visit = |row: &Row, place: Place| -> Result<(), Error> {
        let severity = row.severity()?;
        if severity == 0 {
            keys.push(Key {
                lda_score: row.number(Column::LdaScore)?,
                rank: row.number(Column::Rank)?,
                entry: entries.len(),
            });
        }
        entries.push(Entry {
            start: header_len + place.start,
            len: place.len,
            has_line_end: place.line_end,
            severity,
        });
        Ok(())
    };
    let mut at = header_len;
    let mut window = BLOCK;
    while at < data.len() {
        let end = (at + window).min(data.len());
        let used = pass.records(
            &data[at..end],
            end == data.len(),
            &mut |row: &Row, place: Place| {
                visit(
                    row,
                    Place {
                        start: at - header_len + place.start,
                        ..place
                    },
                )
            },
        )?;
        // A record longer than the window: look further.
        window = if used == 0 { window * 2 } else { BLOCK };
        at += used;
    }
    Ok((header_len, line_end, entries, keys))
}

/// The output order, as indexes into `entries`.
fn sorted(entries: &[Entry], mut keys: Vec<Key>) -> Vec<usize> {
    keys.sort_unstable_by(|a, b| {
        a.lda_score
            .total_cmp(&b.lda_score)
            .then(a.rank.total_cmp(&b.rank))
            .then(a.entry.cmp(&b.entry))
    });
    let mut order = Vec::with_capacity(entries.len());
    order.extend(keys.iter().map(|key| key.entry));
    drop(keys);
    for severity in 1..=3 {
        order.extend(
            entries
                .iter()
                .enumerate()
                .filter(|(_, entry)| entry.severity == severity)
                .map(|(index, _)| index),
        );
    }
    order
}
