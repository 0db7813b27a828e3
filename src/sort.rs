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

use crate::durable::{create_temporary, finish_temporary, replace, write_to};
use crate::error::{Error, Position, Problem};
use crate::paths::DayPaths;
use crate::records::{Advance, Splitter};
use crate::row::Row;
use crate::schema::{Column, Schema};
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

/// One row's place in the file and its sort key.
struct Entry {
    start: usize,
    len: usize,
    has_line_end: bool,
    severity: u8,
    lda_score: f64,
    rank: f64,
}

/// Sorts the day's file (see the module docs).
pub(crate) fn save_and_sort(paths: &DayPaths) -> Result<SortReport, Error> {
    let _lock = lock_and_recover(paths)?;
    let data = fs::read(&paths.flow).map_err(|e| Error::io(&paths.flow, "reading", e))?;
    let (header_len, line_end, entries) = index(paths, &data)?;
    let order = sorted(&entries);

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

/// Splits the file into rows with their keys; returns the header's length and
/// line end too.
fn index<'d>(paths: &DayPaths, data: &'d [u8]) -> Result<(usize, &'d [u8], Vec<Entry>), Error> {
    let mut splitter = Splitter::new(&paths.flow);
    let empty = || Error::content(Position::line(&paths.flow, 1), Problem::EmptyFile);
    if splitter.advance(data, true)? != Advance::Record {
        return Err(empty());
    }
    let (header, header_len) = splitter.take(data)?.ok_or_else(empty)?;
    let names: Vec<String> = (0..header.fields.len())
        .map(|index| header.text(index).to_owned())
        .collect();
    let line_end: &[u8] = match header.terminator() {
        b"" => b"\n",
        terminator => &data[header_len - terminator.len()..header_len],
    };
    let schema = Schema::from_header(&paths.flow, &names)?;
    splitter.set_header(names);

    let mut entries = Vec::with_capacity(data.len() / 160);
    let mut at = header_len;
    while splitter.advance(&data[at..], true)? == Advance::Record {
        let Some((record, used)) = splitter.take(&data[at..])? else {
            break;
        };
        let row = Row::new(record, &schema);
        let severity = row.severity()?;
        let (lda_score, rank) = if severity == 0 {
            (row.number(Column::LdaScore)?, row.number(Column::Rank)?)
        } else {
            (0.0, 0.0)
        };
        entries.push(Entry {
            start: at,
            len: used,
            has_line_end: !record.terminator().is_empty(),
            severity,
            lda_score,
            rank,
        });
        at += used;
    }
    Ok((header_len, line_end, entries))
}

/// The output order, as indexes into `entries`.
fn sorted(entries: &[Entry]) -> Vec<usize> {
    let mut unscored: Vec<usize> = (0..entries.len())
        .filter(|&index| entries[index].severity == 0)
        .collect();
    // A stable sort keeps the current order among equal keys.
    unscored.sort_by(|&a, &b| {
        let (a, b) = (&entries[a], &entries[b]);
        a.lda_score
            .total_cmp(&b.lda_score)
            .then(a.rank.total_cmp(&b.rank))
    });
    let mut order = unscored;
    for severity in 1..=3 {
        order.extend((0..entries.len()).filter(|&index| entries[index].severity == severity));
    }
    order
}
