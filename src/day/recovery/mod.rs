//! Locking and recovery: the one place that knows every journal.
//!
//! Every operation that writes a day first takes the day's lock and then finishes or rolls back
//! whatever a crash interrupted ([`lock_and_recover`]): an interrupted scoring (its journal,
//! [`scoring_journal`]) and an interrupted undo (its own journal, [`undo_journal`]). Sorting,
//! restoring and making the backup change one file by one rename and need no journal: their
//! stale temporaries are removed here too.
//!
//! A reader who may not write cannot recover: [`current_version`] picks, under the shared
//! lock and without changing anything, the file that holds the flows as recovery will leave
//! them.

pub(crate) mod notes;
pub(crate) mod scoring_journal;
pub(crate) mod undo_journal;

use crate::day::paths::DayPaths;
use crate::day::recovery::scoring_journal::JournalState;
use crate::day::recovery::undo_journal::UndoState;
use crate::error::Error;
use crate::io::lock::DayLock;
use crate::io::ownership::Ownership;
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
    /// The open file: a whole version, whatever writers do after.
    pub file: File,
    /// Its path (`flow_scores.csv`, or a decided new version recovery will rename over it).
    pub path: PathBuf,
    /// Set when an interrupted operation awaits recovery.
    pub pending: Option<RecoveryNote>,
}

/// Opens the version of the flows that recovery would leave, without writing anything: under
/// the day's shared lock (so no writer is half way, and writers wait only for this open), the
/// journals say whether a decided scoring or undo still has its new version beside
/// `flow_scores.csv`; that version is the one to read. Needs read access only.
pub(crate) fn current_version(paths: &DayPaths) -> Result<CurrentVersion, Error> {
    let _shared = DayLock::shared(&paths.lock, paths.lock_wait)?;
    let mut path = paths.flow.clone();
    let mut journal = None;
    if let Some(state) = scoring_journal::read(&paths.journal)? {
        if matches!(state, JournalState::Prepared(_)) && paths.tmp.exists() {
            path = paths.tmp.clone();
        }
        journal = Some(paths.journal.clone());
    }
    // Recovery finishes a scoring first, then an undo: the undo's version wins.
    if let Some(state) = undo_journal::read(&paths.undo_journal)? {
        if matches!(state, UndoState::Decided(_)) && paths.undo_tmp.exists() {
            path = paths.undo_tmp.clone();
        }
        journal = Some(paths.undo_journal.clone());
    }
    let file = File::open(&path).map_err(|e| Error::io(&path, "opening for reading", e))?;
    let pending = journal.map(|journal| RecoveryNote::RecoveryPending {
        journal,
        reading: path.clone(),
    });
    Ok(CurrentVersion {
        file,
        path,
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
}
