//! Save and sort: the order the analyst works in.
//!
//! Unscored rows first, most suspicious first (`lda_score` ascending, ties by
//! `rank`, then by current order), then the scored rows grouped by severity 1,
//! 2, 3, each group in its current order. The original sorted by
//! `(int(sev), float(row[11]))`, that is by `rank`, scored groups included;
//! on files where rank follows the score the unscored order is the same.
//!
//! The file is read into memory whole (sorting needs every key; only offsets
//! and keys are kept besides the bytes), written to `.new` and renamed over
//! `flow_scores.csv`. Every row keeps its bytes; a last row without a line end
//! gets the header's line end if it moves away from the end.

use crate::blocks::{read_header, BlockPass, Place, BLOCK};
use crate::durable::{create_temporary, finish_temporary, replace, write_to};
use crate::error::{Error, Position, Problem};
use crate::paths::DayPaths;
use crate::row::Row;
use crate::schema::Column;
use crate::update::lock_and_recover;
use std::fs;

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
    let data = fs::read(&paths.flow).map_err(|e| Error::io(&paths.flow, "reading", e))?;
    let (header_len, line_end, entries, keys) = index(paths, &data)?;
    let order = sorted(&entries, keys);

    let mut out = create_temporary(&paths.new)?;
    write_to(&mut out, &paths.new, &data[..header_len])?;
    let last = order.len().saturating_sub(1);
    for (at, &index) in order.iter().enumerate() {
        let entry = &entries[index];
        let bytes = &data[entry.start..entry.start + entry.len];
        write_to(&mut out, &paths.new, bytes)?;
        if !entry.has_line_end && at != last {
            write_to(&mut out, &paths.new, line_end)?;
        }
    }
    finish_temporary(&paths.new, out)?;
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
