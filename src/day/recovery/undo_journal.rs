//! The journal of an undo: one checksummed line that decides it.
//!
//! The restored flows are written to `flow_scores.csv.undo` and flushed first; then the line
//! in `flow_scores.csv.undo-journal` decides the undo; then the rename, the feedback
//! truncation and the journal's removal follow ([`finish`]). [`recover`] runs under the day's
//! lock before every operation: without a whole journal line the undo never happened (the
//! temporary is removed); with one it is finished.

use crate::day::paths::DayPaths;
use crate::day::recovery::notes::{remove_stale, RecoveryNote};
use crate::day::recovery::scoring_journal::{self, FeedbackBefore};
use crate::error::Error;
use crate::io::durable::{remove_if_present, replace, sync_dir};
use crate::io::ownership::{create_new_like, Ownership};
use std::fs;
use std::path::Path;

const MAGIC: &str = "flow-edge-undo-v1";

/// Writes the journal line that decides the undo, durably, in a new file with the flow file's
/// ownership (recovery removed any earlier journal; one still there is an error).
pub(crate) fn decide(paths: &DayPaths, target: FeedbackBefore) -> Result<(), Error> {
    let journal = &paths.undo_journal;
    let mut file = create_new_like(journal, Ownership::model(&paths.flow)?.as_ref())?;
    scoring_journal::write_line(
        &mut file,
        journal,
        &format!("{MAGIC} {}", target.to_words()),
    )?;
    sync_dir(&paths.dir)
}

/// Completes a decided undo: flows renamed into place, feedback cut back, journal removed.
/// Each step can be repeated, so recovery may run it again after a crash. Returns what the
/// feedback's roll back found (a feedback file gone or shorter than the undo expected).
pub(crate) fn finish(
    paths: &DayPaths,
    target: FeedbackBefore,
) -> Result<Option<RecoveryNote>, Error> {
    if paths.undo_tmp.exists() {
        replace(&paths.undo_tmp, &paths.flow, &paths.dir)?;
    }
    let found = scoring_journal::roll_back_feedback(&paths.feedback, target)?;
    remove_if_present(&paths.undo_journal)?;
    sync_dir(&paths.dir)?;
    Ok(found)
}

/// The feedback target of a whole journal line, `None` for a torn or foreign one.
fn parse_journal(text: &str) -> Option<FeedbackBefore> {
    let body = scoring_journal::checked_body(text.strip_suffix('\n')?)?;
    let mut words = body.split(' ');
    if words.next()? != MAGIC {
        return None;
    }
    let target = FeedbackBefore::from_words(&mut words)?;
    words.next().is_none().then_some(target)
}

/// What an undo journal records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UndoState {
    /// Its line never reached the disk whole: the undo did not happen.
    Undecided,
    /// The undo is decided, with the feedback length to cut back to: it is to be finished.
    Decided(FeedbackBefore),
}

/// Reads the undo journal at `path`, if there is one.
pub(crate) fn read(path: &Path) -> Result<Option<UndoState>, Error> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(
            parse_journal(&String::from_utf8_lossy(&bytes))
                .map_or(UndoState::Undecided, UndoState::Decided),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, "reading the journal", e)),
    }
}

/// Finishes an undo a crash interrupted after it was decided, or forgets one that was not,
/// and notes what it found. Called with the day's lock held.
pub(crate) fn recover(paths: &DayPaths, notes: &mut Vec<RecoveryNote>) -> Result<(), Error> {
    let journal = &paths.undo_journal;
    let Some(state) = read(journal)? else {
        return remove_stale(&paths.undo_tmp, notes);
    };
    let noted = journal.to_path_buf();
    match state {
        UndoState::Decided(target) => {
            notes.extend(finish(paths, target)?);
            notes.push(RecoveryNote::UndoFinished { journal: noted });
            Ok(())
        }
        UndoState::Undecided => {
            remove_if_present(&paths.undo_tmp)?;
            remove_if_present(journal)?;
            notes.push(RecoveryNote::UndoDropped { journal: noted });
            sync_dir(&paths.dir)
        }
    }
}
