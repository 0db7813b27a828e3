//! Undo of a scoring, as crash-safe as the scoring itself.
//!
//! A scoring changes two files: some `sev` fields of `flow_scores.csv` and the rows appended
//! to `flow_scores_fb.csv`. [`crate::day::scoring::score_recorded`] scores exactly like
//! [`crate::Day::score`] and remembers, under the day's lock, what it changed: each rated
//! row's position and previous severity (and, for a scoring made in place, where its `sev`
//! byte is), the feedback file's length before, and the identity of both files after.
//! [`undo`] puts both files back, but only if neither changed since (a save-and-sort, a
//! restore, rules, and a scoring or undo from another notebook or the command line change
//! `flow_scores.csv` or the feedback file): otherwise it refuses and changes nothing.
//!
//! An undo goes the way its scoring went. A scoring made in place is undone in place
//! ([`crate::day::in_place::undo`]): the rating's bytes are checked and written back under a
//! journal that decides the undo, so recovery finishes it. A scoring made by the rewrite pass
//! is undone by one too: the restored flows are written to `flow_scores.csv.undo` and
//! flushed; then one checksummed line in `flow_scores.csv.undo-journal` decides the undo;
//! then the rename, the feedback truncation and the journal's removal follow
//! ([`crate::day::recovery::undo_journal`]). Either way the scoring is in both files or in
//! neither, whatever instant a crash hits.

use crate::csv::blocks::{BlockReader, Place};
use crate::csv::row::Row;
use crate::csv::schema::Column;
use crate::day::in_place::{self, UndoRefused};
use crate::day::paths::DayPaths;
use crate::day::recovery::scoring_journal::FeedbackBefore;
use crate::day::recovery::{lock_and_recover, undo_journal};
use crate::error::Error;
use crate::io::durable::{create_temporary, finish_temporary, remove_if_present, write_to};
use crate::io::identity::FileIdentity;
use std::fmt;
use std::ops::Range;
use std::path::Path;

/// What one scoring changed, kept so that it can be undone ([`crate::Day::score_undoable`],
/// [`crate::Day::undo`]).
#[derive(Debug, Clone)]
pub struct ScoringRecord {
    /// Position (0-based data row) and previous severity of each rated row, ascending.
    pub(crate) changed: Vec<(u64, u8)>,
    /// Where each rated row's one-byte `sev` field is, in the same order, when the scoring
    /// was made in place (so is its undo).
    pub(crate) sev_at: Option<Vec<u64>>,
    /// The rating given.
    pub(crate) rating: u8,
    /// `flow_scores.csv` as the scoring read it.
    // Read only by the panel, to tell whether its index described that version.
    #[cfg_attr(not(feature = "panel"), allow(dead_code))]
    pub(crate) flow_before: FileIdentity,
    /// `flow_scores.csv` as the scoring left it, if the scoring's own output could be
    /// recognised (no other writer slipped in before it was looked at).
    pub(crate) flow_after: Option<FileIdentity>,
    /// The feedback file before the scoring appended to it.
    pub(crate) feedback_before: FeedbackBefore,
    /// The feedback file as the scoring left it.
    pub(crate) feedback_after: Option<FileIdentity>,
}

impl ScoringRecord {
    /// Rows the scoring rated.
    pub fn rows(&self) -> usize {
        self.changed.len()
    }

    /// True when [`crate::Day::undo`] may be tried (it checks again under the lock).
    pub fn is_undoable(&self) -> bool {
        self.flow_after.is_some() && self.feedback_after.is_some()
    }
}

/// Why an undo did not happen.
#[derive(Debug)]
pub enum UndoError {
    /// The files changed since the scoring; undoing it now could lose other work.
    Stale(&'static str),
    /// Reading or writing failed; nothing was changed.
    Engine(Error),
}

impl fmt::Display for UndoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UndoError::Stale(why) => write!(f, "nothing undone: {why}"),
            UndoError::Engine(error) => write!(f, "nothing undone: {error}"),
        }
    }
}

impl std::error::Error for UndoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            UndoError::Engine(error) => Some(error),
            UndoError::Stale(_) => None,
        }
    }
}

impl From<Error> for UndoError {
    fn from(error: Error) -> UndoError {
        UndoError::Engine(error)
    }
}

const CHANGED_SINCE: &str = "flow_scores.csv or flow_scores_fb.csv changed since that scoring \
     (saved and sorted, restored, or scored elsewhere)";

/// Puts back the previous severities of the recorded scoring and removes the rows it added
/// to the feedback file. Returns the identity of `flow_scores.csv` as the undo left it
/// (taken under the lock, so it is the undo's own version).
pub(crate) fn undo(paths: &DayPaths, record: &ScoringRecord) -> Result<FileIdentity, UndoError> {
    let (Some(flow_after), Some(feedback_after)) = (record.flow_after, record.feedback_after)
    else {
        return Err(UndoError::Stale(CHANGED_SINCE));
    };
    let _lock = lock_and_recover(paths)?;
    if FileIdentity::of(&paths.flow)? != flow_after
        || FileIdentity::of(&paths.feedback).ok() != Some(feedback_after)
    {
        return Err(UndoError::Stale(CHANGED_SINCE));
    }
    match &record.sev_at {
        Some(sev_at) => undo_in_place(paths, record, sev_at)?,
        None => undo_by_rewrite(paths, record)?,
    }
    Ok(FileIdentity::of(&paths.flow)?)
}

/// Writes the previous severities back where the scoring wrote the rating.
fn undo_in_place(
    paths: &DayPaths,
    record: &ScoringRecord,
    sev_at: &[u64],
) -> Result<(), UndoError> {
    let previous: Vec<u8> = record
        .changed
        .iter()
        .map(|&(_, severity)| severity)
        .collect();
    in_place::undo(
        paths,
        sev_at,
        &previous,
        record.rating,
        record.feedback_before,
    )
    .map_err(|refused| match refused {
        UndoRefused::Changed => UndoError::Stale(CHANGED_SINCE),
        UndoRefused::Engine(error) => UndoError::Engine(error),
    })
}

/// Writes the restored flows beside the day, decides the undo, and finishes it.
fn undo_by_rewrite(paths: &DayPaths, record: &ScoringRecord) -> Result<(), UndoError> {
    let temp = &paths.undo_tmp;
    if let Err(error) = write_restored(paths, temp, record) {
        // A failed clean-up leaves a stale temporary that the next recovery removes.
        let _ = remove_if_present(temp);
        return Err(error);
    }
    undo_journal::decide(paths, record.feedback_before)?;
    // The feedback was checked above, under the lock: its roll back finds nothing to note.
    undo_journal::finish(paths, record.feedback_before)?;
    Ok(())
}

/// Writes the flows with the recorded rows' severities put back, checking on the way that
/// each of them still has the rating the scoring gave. Goes through the same mapped block
/// pass and writing thread as a scoring (see [`crate::csv::blocks`], [`crate::io::durable`]).
fn write_restored(paths: &DayPaths, temp: &Path, record: &ScoringRecord) -> Result<(), UndoError> {
    let mut reader = BlockReader::open(&paths.flow)?;
    let sev_index = reader.schema().slot_or_absent(Column::Sev);
    let rating = char::from(b'0' + record.rating).to_string();
    let mut out = create_temporary(temp, &paths.flow)?;
    write_to(&mut out, temp, reader.header())?;
    let mut changes = record.changed.iter().peekable();
    let mut position = 0u64;
    let mut restored: Vec<(Range<usize>, u8)> = Vec::new();
    loop {
        let block_start = reader.position();
        let mut visit = |row: &Row, place: Place| -> Result<(), UndoError> {
            let restore = changes.next_if(|(at, _)| *at == position);
            position += 1;
            let Some(&(_, previous)) = restore else {
                return Ok(());
            };
            if row.get(Column::Sev) != rating {
                return Err(UndoError::Stale(CHANGED_SINCE));
            }
            let sev = row.raw_span(sev_index);
            let start = block_start + place.start;
            restored.push((start + sev.start..start + sev.end, previous));
            Ok(())
        };
        let Some(range) = reader.next_block(&mut visit)? else {
            break;
        };
        let block = reader.changed_block(range, std::mem::take(&mut restored));
        out.write_mapped(block, true)
            .map_err(|e| Error::io(temp, "writing", e))?;
    }
    if changes.next().is_some() {
        return Err(UndoError::Stale(CHANGED_SINCE));
    }
    finish_temporary(temp, out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::day::scoring::score_recorded;
    use crate::day::selection::Selection;
    use crate::day::Day;
    use crate::synthetic::{generate_bytes, DaySpec};
    use std::fs;

    /// A day scored once from a state with some feedback, with the files before that scoring.
    struct Scored {
        _dir: tempfile::TempDir,
        day: Day,
        record: ScoringRecord,
        flow_before: Vec<u8>,
        feedback_before: Vec<u8>,
        flow_after: Vec<u8>,
        feedback_after: Vec<u8>,
    }

    fn scored_day() -> Scored {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("flow_scores.csv"),
            generate_bytes(&DaySpec::new(300, 5)),
        )
        .unwrap();
        let day = Day::open(dir.path()).unwrap();
        let lists = day.listbox_values().unwrap();
        day.score(&Selection::new().dport(lists.dports[0].clone()), 2)
            .unwrap();
        let read = |path: &Path| fs::read(path).unwrap();
        let (flow_before, feedback_before) = (read(&day.paths().flow), read(&day.paths().feedback));
        let selection = Selection::new().quick_ip(lists.src_ips[0].clone());
        let (_, record) = score_recorded(day.paths(), &selection, 1).unwrap();
        let record = record.unwrap();
        assert!(record.is_undoable());
        Scored {
            flow_after: read(&day.paths().flow),
            feedback_after: read(&day.paths().feedback),
            _dir: dir,
            day,
            record,
            flow_before,
            feedback_before,
        }
    }

    /// Runs the undo up to the decided journal, as a crash right after it would leave it.
    fn decided_but_unfinished(scored: &Scored) {
        let paths = scored.day.paths();
        write_restored(paths, &paths.undo_tmp, &scored.record).unwrap();
        undo_journal::decide(paths, scored.record.feedback_before).unwrap();
    }

    fn files(day: &Day) -> (Vec<u8>, Vec<u8>) {
        (
            fs::read(&day.paths().flow).unwrap(),
            fs::read(&day.paths().feedback).unwrap(),
        )
    }

    #[test]
    fn a_decided_undo_is_finished_by_the_next_open() {
        let scored = scored_day();
        decided_but_unfinished(&scored);
        Day::open(&scored.day.paths().dir).unwrap();
        assert_eq!(
            files(&scored.day),
            (scored.flow_before.clone(), scored.feedback_before.clone())
        );
        assert!(!scored.day.paths().undo_journal.exists());
        assert!(!scored.day.paths().undo_tmp.exists());
    }

    #[test]
    fn an_undo_interrupted_after_its_rename_is_finished_too() {
        let scored = scored_day();
        decided_but_unfinished(&scored);
        let paths = scored.day.paths();
        crate::io::durable::replace(&paths.undo_tmp, &paths.flow, &paths.dir).unwrap();
        // The next writer, whatever it is, finishes first.
        scored.day.save_and_sort().unwrap();
        assert_eq!(fs::read(&paths.feedback).unwrap(), scored.feedback_before);
        assert!(!paths.undo_journal.exists());
    }

    #[test]
    fn a_decided_undo_whose_feedback_file_was_removed_is_finished_and_reported() {
        let scored = scored_day();
        decided_but_unfinished(&scored);
        let paths = scored.day.paths();
        fs::remove_file(&paths.feedback).unwrap();
        let reopened = Day::open(&paths.dir).unwrap();
        assert_eq!(fs::read(&paths.flow).unwrap(), scored.flow_before);
        assert!(!paths.feedback.exists());
        assert_eq!(
            reopened.recovery_notes(),
            [
                crate::RecoveryNote::FeedbackMissing {
                    path: paths.feedback.clone(),
                    recorded_len: scored.feedback_before.len() as u64,
                },
                crate::RecoveryNote::UndoFinished {
                    journal: paths.undo_journal.clone()
                }
            ]
        );
        assert!(!paths.undo_journal.exists());
    }

    #[test]
    fn an_undo_whose_journal_line_is_torn_never_happened() {
        let scored = scored_day();
        let paths = scored.day.paths();
        write_restored(paths, &paths.undo_tmp, &scored.record).unwrap();
        fs::write(&paths.undo_journal, "flow-edge-undo-v1 12").unwrap();
        Day::open(&paths.dir).unwrap();
        assert_eq!(
            files(&scored.day),
            (scored.flow_after.clone(), scored.feedback_after.clone())
        );
        assert!(!paths.undo_journal.exists());
        assert!(!paths.undo_tmp.exists());
    }

    #[test]
    fn undo_checks_that_the_rows_still_have_the_rating() {
        let scored = scored_day();
        let mut record = scored.record.clone();
        record.rating = 3;
        let error = undo(scored.day.paths(), &record).unwrap_err();
        assert!(matches!(error, UndoError::Stale(_)), "{error}");
        assert_eq!(
            files(&scored.day),
            (scored.flow_after.clone(), scored.feedback_after.clone())
        );
        assert!(!scored.day.paths().undo_tmp.exists());
    }
}
