//! Locking and recovery: the one place that knows every journal.
//!
//! Every operation that writes a day first takes the day's lock and then finishes or rolls back
//! whatever a crash interrupted ([`lock_and_recover`]): a scoring or an undo made in place
//! ([`patch_journal`]), a scoring by rename (its journal, [`scoring_journal`]) and an undo by
//! rename (its own journal, [`undo_journal`]). Sorting, restoring and making the backup change
//! one file by one rename and need no journal: their stale temporaries are removed here too.
//!
//! A reader who may not write cannot recover: [`current_version`] picks, under the shared
//! lock and without changing anything, the flows as recovery will leave them, and holds them
//! with the flows' own lock for the whole read (see [`crate::io::lock`]), so that no change in
//! place can happen under it.

pub(crate) mod notes;
pub(crate) mod patch_journal;
pub(crate) mod scoring_journal;
pub(crate) mod undo_journal;

use crate::day::paths::DayPaths;
use crate::day::recovery::scoring_journal::JournalState;
use crate::day::recovery::undo_journal::UndoState;
use crate::error::Error;
use crate::io::lock::{share_flows, DayLock};
use crate::io::ownership::Ownership;
use crate::io::patch::Overlay;
pub use notes::RecoveryNote;
use std::fs::File;
use std::path::PathBuf;

/// The day's lock, held, and what recovery found before handing it over.
#[derive(Debug)]
pub(crate) struct Recovered {
    /// Held until dropped.
    _lock: DayLock,
    /// What was interrupted and what was done about it (usually nothing).
    pub notes: Vec<RecoveryNote>,
}

/// Takes the day's lock and finishes or rolls back an interrupted scoring or undo.
pub(crate) fn lock_and_recover(paths: &DayPaths) -> Result<Recovered, Error> {
    let model = Ownership::model(&paths.flow)?;
    let lock = DayLock::exclusive(&paths.lock, model.as_ref(), paths.lock_wait)?;
    let mut notes = Vec::new();
    // A journal of a change in place is recovered first; the scoring journal's recovery then
    // finds none and only removes stale temporaries.
    patch_journal::recover(paths, &mut notes)?;
    let files = scoring_journal::RecoveryFiles {
        dir: &paths.dir,
        journal: &paths.journal,
        tmp: &paths.tmp,
        stale: [&paths.new, &paths.backup_tmp],
        flow: &paths.flow,
        feedback: &paths.feedback,
    };
    scoring_journal::recover(&files, &mut notes)?;
    undo_journal::recover(paths, &mut notes)?;
    Ok(Recovered { _lock: lock, notes })
}

/// The day's flows as a reader should see them, open.
#[derive(Debug)]
pub(crate) struct CurrentVersion {
    /// The open file, with the flows' own lock held shared for as long as it is open: no
    /// writer changes it in place meanwhile, and one that replaces it leaves it whole.
    pub file: File,
    /// Its path (`flow_scores.csv`, or a decided new version recovery will rename over it).
    pub path: PathBuf,
    /// Bytes to read instead of the file's own: those an interrupted change in place has
    /// still to get from recovery (empty unless a crash left one).
    pub overlay: Overlay,
    /// Set when an interrupted operation awaits recovery.
    pub pending: Option<RecoveryNote>,
}

/// Opens the version of the flows that recovery would leave, without writing anything. Under
/// the day's shared lock (so no writer is half way, and writers wait only for this open) the
/// journals say whether a decided scoring or undo by rename still has its new version beside
/// `flow_scores.csv` (that version is the one to read), or a change in place a crash
/// interrupted still has bytes to get (they are laid over the file's). The file is returned
/// with the flows' own lock held shared, which every change in place waits for: the whole read
/// sees one state. Needs read access only.
pub(crate) fn current_version(paths: &DayPaths) -> Result<CurrentVersion, Error> {
    let _shared = DayLock::shared(&paths.lock, paths.lock_wait)?;
    let mut path = paths.flow.clone();
    let mut journal = None;
    // A journal of a change in place is looked at below, under the flows' own lock.
    if patch_journal::read(&paths.journal)?.is_none() {
        if let Some(state) = scoring_journal::read(&paths.journal)? {
            if matches!(state, JournalState::Prepared(_)) && paths.tmp.exists() {
                path = paths.tmp.clone();
            }
            journal = Some(paths.journal.clone());
        }
    }
    // Recovery finishes a scoring first, then an undo: the undo's version wins.
    if let Some(state) = undo_journal::read(&paths.undo_journal)? {
        if matches!(state, UndoState::Decided(_)) && paths.undo_tmp.exists() {
            path = paths.undo_tmp.clone();
        }
        journal = Some(paths.undo_journal.clone());
    }
    let file = File::open(&path).map_err(|e| Error::io(&path, "opening for reading", e))?;
    share_flows(&file, &path, paths.lock_wait)?;
    // Under the flows' lock no change in place is under way, so a journal of one is a crash's
    // (looked at again here: without a lock file, a day no writer had opened, a writer may
    // have come and crashed since the first look).
    let overlay = match (path == paths.flow, patch_journal::read(&paths.journal)?) {
        (true, Some(found)) if found.is_pending() => {
            journal.get_or_insert_with(|| paths.journal.clone());
            found.overlay()
        }
        _ => Overlay::new(),
    };
    let pending = journal.map(|journal| RecoveryNote::RecoveryPending {
        journal,
        reading: path.clone(),
    });
    Ok(CurrentVersion {
        file,
        path,
        overlay,
        pending,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::day::recovery::scoring_journal::{FeedbackBefore, Journal};
    use crate::day::Day;
    use crate::synthetic::{generate_bytes, DaySpec};
    use std::fs;

    /// A day folder whose flow file has 100 rows, and its paths.
    fn day_of_100_rows() -> (tempfile::TempDir, DayPaths) {
        let dir = tempfile::tempdir().unwrap();
        let paths = DayPaths::for_day_folder(dir.path());
        fs::write(&paths.flow, generate_bytes(&DaySpec::new(100, 1))).unwrap();
        (dir, paths)
    }

    fn rows_read_only(paths: &DayPaths) -> (u64, Vec<RecoveryNote>) {
        let day = Day::open_paths_read_only(paths.clone()).unwrap();
        let mut rows = 0;
        day.for_each_row(|_| -> Result<(), Error> {
            rows += 1;
            Ok(())
        })
        .unwrap();
        (rows, day.recovery_notes().to_vec())
    }

    const NOTHING_BEFORE: FeedbackBefore = FeedbackBefore {
        len: 0,
        existed: false,
    };

    #[test]
    fn a_reader_sees_a_decided_scoring_that_awaits_its_rename_and_changes_nothing() {
        let (_dir, paths) = day_of_100_rows();
        fs::write(&paths.tmp, generate_bytes(&DaySpec::new(150, 2))).unwrap();
        let mut journal = Journal::begin(&paths.journal, &paths.dir, NOTHING_BEFORE, None).unwrap();
        assert_eq!(rows_read_only(&paths).0, 100, "begun: the flow file stays");
        journal.prepare(&paths.journal).unwrap();
        let (rows, notes) = rows_read_only(&paths);
        assert_eq!(rows, 150);
        assert_eq!(
            notes,
            [RecoveryNote::RecoveryPending {
                journal: paths.journal.clone(),
                reading: paths.tmp.clone(),
            }]
        );
        assert!(paths.journal.exists() && paths.tmp.exists() && !paths.backup.exists());
        // The writer's recovery leaves what the reader read.
        Day::open_paths(paths.clone()).unwrap();
        assert_eq!(rows_read_only(&paths), (150, Vec::new()));
    }

    #[test]
    fn a_reader_sees_a_decided_undo_that_awaits_its_rename() {
        let (_dir, paths) = day_of_100_rows();
        fs::write(&paths.undo_tmp, generate_bytes(&DaySpec::new(120, 3))).unwrap();
        undo_journal::decide(&paths, NOTHING_BEFORE).unwrap();
        let (rows, notes) = rows_read_only(&paths);
        assert_eq!(rows, 120);
        assert_eq!(
            notes,
            [RecoveryNote::RecoveryPending {
                journal: paths.undo_journal.clone(),
                reading: paths.undo_tmp.clone(),
            }]
        );
    }

    /// The offsets of the `sev` bytes of the first `count` data rows of a generated day.
    fn first_sev_bytes(flow: &[u8], count: usize) -> Vec<u64> {
        let mut starts = vec![];
        for (at, &byte) in flow.iter().enumerate() {
            if byte == b'\n' && at + 1 < flow.len() && starts.len() < count {
                starts.push(at as u64 + 1);
            }
        }
        starts
    }

    /// A sealed journal of a scoring that rated the first five rows 3, of which the crash let
    /// only two reach the file.
    fn scoring_cut_short(paths: &DayPaths) -> (Vec<u8>, patch_journal::Change) {
        let before = fs::read(&paths.flow).unwrap();
        let change = patch_journal::Change {
            kind: patch_journal::Kind::Scoring,
            flow_len: before.len() as u64,
            feedback: NOTHING_BEFORE,
            patches: first_sev_bytes(&before, 5)
                .into_iter()
                .map(|at| crate::io::patch::Patch {
                    at,
                    old: b'0',
                    new: b'3',
                })
                .collect(),
        };
        patch_journal::write(&paths.journal, &paths.dir, &change, None).unwrap();
        let mut torn = before.clone();
        for patch in &change.patches[..2] {
            torn[patch.at as usize] = b'3';
        }
        fs::write(&paths.flow, &torn).unwrap();
        (before, change)
    }

    /// Every row's severity and the listbox values, as a reader sees them.
    fn read_only_view(paths: &DayPaths) -> (Vec<u8>, crate::ListboxValues) {
        let day = Day::open_paths_read_only(paths.clone()).unwrap();
        let mut seen = Vec::new();
        day.for_each_row(|row| -> Result<(), Error> {
            seen.push(row.severity()?);
            Ok(())
        })
        .unwrap();
        (seen, day.listbox_values().unwrap())
    }

    #[test]
    fn a_reader_sees_a_scoring_in_place_cut_short_as_recovery_will_leave_it() {
        let (_dir, paths) = day_of_100_rows();
        let (before, _) = scoring_cut_short(&paths);
        let seen = read_only_view(&paths);
        assert!(seen.0.iter().all(|&severity| severity == 0), "{seen:?}");
        assert!(paths.journal.exists(), "a reader recovered");
        Day::open_paths(paths.clone()).unwrap();
        assert_eq!(fs::read(&paths.flow).unwrap(), before);
        assert_eq!(read_only_view(&paths), seen);
    }

    #[test]
    fn a_journal_in_place_that_does_not_fit_the_flows_stops_every_writer_and_changes_nothing() {
        let (_dir, paths) = day_of_100_rows();
        let (_, change) = scoring_cut_short(&paths);
        // Someone edits a rated row's severity by hand.
        let mut edited = fs::read(&paths.flow).unwrap();
        edited[change.patches[4].at as usize] = b'1';
        fs::write(&paths.flow, &edited).unwrap();
        let error = Day::open_paths(paths.clone()).unwrap_err();
        assert!(matches!(error, Error::JournalMismatch { .. }), "{error}");
        assert!(error.to_string().contains("neither '0' nor '3'"), "{error}");
        assert_eq!(fs::read(&paths.flow).unwrap(), edited);
        assert!(paths.journal.exists());
    }
}
