//! Scoring and undo in place: a severity is one byte, so a scoring writes one byte per rated
//! row where it is, and an undo writes them back; the rest of the day is not touched.
//!
//! Both run with the day's lock held, on rows already found in the version they change (by a
//! scan, [`crate::day::scoring`], or by the panel's index): [`Target`]s, each with the
//! offset of its one-byte `sev` field. They hold the flows' own lock exclusive while they
//! write (readers are not reading meanwhile, see [`crate::io::lock`]), and a journal makes
//! them whole across a crash ([`patch_journal`], which says which way each kind is recovered):
//!
//! * a scoring checks every target's byte, writes and seals its journal (every byte's offset,
//!   old and new, and the feedback file's length before), appends the rows to the feedback
//!   file and flushes it, writes the bytes and flushes the flows, then closes and removes the
//!   journal. A failure after the journal rolls both files back at once; a crash leaves that
//!   to the next writer. (Flushing the two files from two threads at once was tried: no
//!   faster on the development machine's disk, and a thread more.)
//! * an undo checks that every byte still holds the rating, writes and seals its journal
//!   (which decides it), then finishes exactly as recovery would: bytes, feedback cut back,
//!   journal closed and removed.

use crate::csv::records::{Advance, RecordRef, Splitter};
use crate::csv::row::Row;
use crate::csv::schema::{Column, Schema};
use crate::day::feedback::{FeedbackPlan, FeedbackWriter};
use crate::day::paths::DayPaths;
use crate::day::recovery::patch_journal::{self, Change, Kind, OwnedFlows};
use crate::day::recovery::scoring_journal::FeedbackBefore;
use crate::error::{Error, Position, Problem};
use crate::io::ownership::Ownership;
use crate::io::patch::{self, Patch, Side};
use std::io;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// A row a scoring rates, where it is in the version being changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// Its position among the data rows (0-based).
    pub position: u64,
    /// Its 1-based line, for errors.
    pub line: u64,
    /// Where its bytes lie in the file, line end included.
    pub row: Range<u64>,
    /// The offset of its `sev` field, one byte long.
    pub sev_at: u64,
    /// Its severity now.
    pub severity: u8,
}

/// The rows a scoring rates, found in the version it changes.
pub(crate) struct Located {
    /// The file's columns.
    pub schema: Schema,
    /// Data rows in the file.
    pub rows: u64,
    /// The rows to rate, in file order.
    pub targets: Vec<Target>,
}

/// The digit a severity is written as.
fn digit(severity: u8) -> u8 {
    b'0' + severity
}

/// The located rows' bytes, read from the flows once (a row at a time: a scoring reads its
/// rows, not the day): the scoring checks them, then copies them into the feedback.
struct TargetRows {
    bytes: Vec<u8>,
    /// Where each target's row ends in `bytes` (each starts where the one before ends).
    ends: Vec<usize>,
}

impl TargetRows {
    /// Reads the targets' rows; `None` when the file is shorter than they say.
    fn read(owned: &OwnedFlows, targets: &[Target], path: &Path) -> Result<Option<Self>, Error> {
        let mut rows = TargetRows {
            bytes: Vec::new(),
            ends: Vec::with_capacity(targets.len()),
        };
        for target in targets {
            let Ok(len) = usize::try_from(target.row.end.saturating_sub(target.row.start)) else {
                return Ok(None);
            };
            let start = rows.bytes.len();
            rows.bytes.resize(start + len, 0);
            match owned
                .file
                .read_exact_at(&mut rows.bytes[start..], target.row.start)
            {
                Ok(()) => rows.ends.push(start + len),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
                Err(e) => return Err(Error::io(path, "reading", e)),
            }
        }
        Ok(Some(rows))
    }

    /// The bytes of the `at`-th target's row.
    fn row(&self, at: usize) -> &[u8] {
        let start = at.checked_sub(1).map_or(0, |before| self.ends[before]);
        &self.bytes[start..self.ends[at]]
    }
}

/// Rates the located rows in place and appends them to the feedback file (see the module
/// docs). Returns the feedback file as it was before, or `None` when a target's `sev` byte is
/// not what was located (a stale index): then nothing was written, and the caller scores by
/// rewriting instead.
pub(crate) fn score(
    paths: &DayPaths,
    owned: &OwnedFlows,
    located: &Located,
    rating: u8,
) -> Result<Option<FeedbackBefore>, Error> {
    let Some(rows) = TargetRows::read(owned, &located.targets, &paths.flow)? else {
        return Ok(None);
    };
    for (at, target) in located.targets.iter().enumerate() {
        let sev = target
            .sev_at
            .checked_sub(target.row.start)
            .and_then(|sev| usize::try_from(sev).ok());
        if sev.and_then(|sev| rows.row(at).get(sev)) != Some(&digit(target.severity)) {
            return Ok(None);
        }
    }
    let plan = FeedbackPlan::inspect(&paths.feedback, &located.schema)?;
    let before = plan.before;
    let change = Change {
        kind: Kind::Scoring,
        flow_len: owned
            .file
            .metadata()
            .map_err(|e| Error::io(&paths.flow, "looking at", e))?
            .len(),
        feedback: before,
        patches: located
            .targets
            .iter()
            .map(|target| Patch {
                at: target.sev_at,
                old: digit(target.severity),
                new: digit(rating),
            })
            .collect(),
    };
    // The journal and a new feedback file are the day's files too: they take the flow file's
    // owner, group and permissions.
    let model = Ownership::model(&paths.flow)?;
    patch_journal::write(&paths.journal, &paths.dir, &change, model.as_ref())?;
    let done = (|| {
        feedback_rows(paths, plan, model.as_ref(), &rows, located, rating)?.finish()?;
        patch::write(&owned.file, &paths.flow, &change.patches, Side::New)?;
        patch_journal::close(paths)
    })();
    if let Err(error) = done {
        // The error matters more than a failed roll back, which the next writer's recovery
        // does from the journal anyway. The feedback is this scoring's own: nothing to note.
        let _ = patch_journal::bring_to_target(owned, paths, &change);
        return Err(error);
    }
    Ok(Some(before))
}

/// Appends the located rows, with the rating, to the feedback file (the caller flushes it).
fn feedback_rows(
    paths: &DayPaths,
    plan: FeedbackPlan,
    model: Option<&Ownership>,
    rows: &TargetRows,
    located: &Located,
    rating: u8,
) -> Result<FeedbackWriter, Error> {
    let sev_index = located.schema.slot_or_absent(Column::Sev);
    let mut writer = plan.open(model)?;
    let mut splitter = Splitter::new(&paths.flow);
    for (at, target) in located.targets.iter().enumerate() {
        let record = one_record(&mut splitter, rows.row(at), target.line)?;
        writer.append(&Row::new(record, &located.schema), sev_index, rating)?;
    }
    Ok(writer)
}

/// The one record in `raw` (a whole row), starting on `line`.
fn one_record<'s>(
    splitter: &'s mut Splitter,
    raw: &'s [u8],
    line: u64,
) -> Result<RecordRef<'s>, Error> {
    splitter.set_next_line(line);
    let path = splitter.path().to_path_buf();
    if splitter.advance(raw, true)? != Advance::Record {
        return Err(Error::content(
            Position::line(&path, line),
            Problem::EmptyLine,
        ));
    }
    match splitter.take(raw)? {
        Some((record, _)) => Ok(record),
        None => Err(Error::content(
            Position::line(&path, line),
            Problem::EmptyLine,
        )),
    }
}

/// Why an undo in place did not happen.
#[derive(Debug)]
pub(crate) enum UndoRefused {
    /// A rated row does not hold the rating any more: something changed it since.
    Changed,
    /// Reading or writing failed.
    Engine(Error),
}

impl From<Error> for UndoRefused {
    fn from(error: Error) -> UndoRefused {
        UndoRefused::Engine(error)
    }
}

/// Puts `previous[i]` back as the severity at offset `sev_at[i]`, where a scoring wrote
/// `rating`, and cuts the feedback file back to `feedback` (see the module docs).
pub(crate) fn undo(
    paths: &DayPaths,
    sev_at: &[u64],
    previous: &[u8],
    rating: u8,
    feedback: FeedbackBefore,
) -> Result<(), UndoRefused> {
    let owned = OwnedFlows::open(paths)?;
    let flow_len = owned
        .file
        .metadata()
        .map_err(|e| Error::io(&paths.flow, "looking at", e))?
        .len();
    let mut patches = Vec::with_capacity(sev_at.len());
    for (&at, &severity) in sev_at.iter().zip(previous) {
        let mut byte = [0u8];
        if at >= flow_len {
            return Err(UndoRefused::Changed);
        }
        owned
            .file
            .read_exact_at(&mut byte, at)
            .map_err(|e| Error::io(&paths.flow, "reading", e))?;
        if byte[0] != digit(rating) {
            return Err(UndoRefused::Changed);
        }
        patches.push(Patch {
            at,
            old: byte[0],
            new: digit(severity),
        });
    }
    let change = Change {
        kind: Kind::Undo,
        flow_len,
        feedback,
        patches,
    };
    let model = Ownership::model(&paths.flow)?;
    patch_journal::write(&paths.journal, &paths.dir, &change, model.as_ref())?;
    // Decided. The feedback was checked by the caller, under the lock: its cut finds nothing
    // to note. A failure from here leaves the journal, and the next writer finishes the undo.
    patch_journal::bring_to_target(&owned, paths, &change)?;
    Ok(())
}
