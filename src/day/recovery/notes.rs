//! What recovery found: told to the analyst, because an interrupted scoring that was rolled
//! back has to be done again, and a feedback file that went missing lost scored rows.

use crate::error::Error;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Something recovery found and what it did about it (see [`crate::Day::recovery_notes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecoveryNote {
    /// A scoring was interrupted before it was decided and was rolled back: it is in neither
    /// `flow_scores.csv` nor the feedback file.
    ScoringRolledBack {
        /// Its journal.
        journal: PathBuf,
    },
    /// A scoring was interrupted after it was decided and was finished: it is in both files.
    ScoringFinished {
        /// Its journal.
        journal: PathBuf,
    },
    /// The feedback file an interrupted scoring or undo was to cut back was gone: there was
    /// nothing to cut back, and the rows it held before are gone with it.
    FeedbackMissing {
        /// The feedback file.
        path: PathBuf,
        /// Its length before the interrupted scoring, in bytes.
        recorded_len: u64,
    },
    /// The feedback file was shorter than before the interrupted scoring, so something else
    /// changed it since: it was left as it is.
    FeedbackShorter {
        /// The feedback file.
        path: PathBuf,
        /// Its length now, in bytes.
        len: u64,
        /// Its length before the interrupted scoring, in bytes.
        recorded_len: u64,
    },
    /// An undo was interrupted after it was decided and was finished.
    UndoFinished {
        /// Its journal.
        journal: PathBuf,
    },
    /// An undo was interrupted before it was decided: it never happened, and the scoring it
    /// was taking back is still in both files.
    UndoDropped {
        /// Its journal.
        journal: PathBuf,
    },
    /// A day opened to read only found an interrupted operation that only a writer may
    /// recover: it reads the flows as that recovery will leave them.
    RecoveryPending {
        /// The journal of the interrupted operation.
        journal: PathBuf,
        /// The file read in the meantime: `flow_scores.csv`, or the finished new version of
        /// a decided operation that recovery will rename over it.
        reading: PathBuf,
    },
    /// A temporary file of an interrupted operation (scoring, save and sort, restore, undo,
    /// backup) was removed; it had replaced nothing.
    StaleTemporaryRemoved {
        /// The temporary.
        path: PathBuf,
    },
}

impl fmt::Display for RecoveryNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecoveryNote::ScoringRolledBack { journal } => write!(
                f,
                "{}: a scoring was interrupted before it was complete and has been rolled \
                 back; it is in neither flow_scores.csv nor the feedback file, so score those \
                 connections again",
                journal.display()
            ),
            RecoveryNote::ScoringFinished { journal } => write!(
                f,
                "{}: a scoring was interrupted after it was complete and has been finished",
                journal.display()
            ),
            RecoveryNote::FeedbackMissing { path, recorded_len } => write!(
                f,
                "{}: the feedback file was gone when an interrupted operation was recovered \
                 (it had {recorded_len} bytes before); nothing to cut back, and the rows it \
                 held are not there any more",
                path.display()
            ),
            RecoveryNote::FeedbackShorter {
                path,
                len,
                recorded_len,
            } => write!(
                f,
                "{}: the feedback file has {len} bytes, fewer than the {recorded_len} it had \
                 before an interrupted scoring, so something else changed it; left as it is",
                path.display()
            ),
            RecoveryNote::UndoFinished { journal } => write!(
                f,
                "{}: an undo was interrupted after it was decided and has been finished",
                journal.display()
            ),
            RecoveryNote::UndoDropped { journal } => write!(
                f,
                "{}: an undo was interrupted before it was decided; it did not happen, and \
                 the scoring it was taking back is still in both files",
                journal.display()
            ),
            RecoveryNote::RecoveryPending { journal, reading } => write!(
                f,
                "{}: an interrupted operation awaits recovery by the next command that writes \
                 the day (this one only reads); reading {}, the flows as recovery will leave \
                 them (the feedback file may differ until then)",
                journal.display(),
                reading.display()
            ),
            RecoveryNote::StaleTemporaryRemoved { path } => write!(
                f,
                "{}: removed, left by an interrupted operation (it had replaced nothing)",
                path.display()
            ),
        }
    }
}

/// Removes the temporary `path` of an interrupted operation, if there is one, and notes it.
pub(crate) fn remove_stale(path: &Path, notes: &mut Vec<RecoveryNote>) -> Result<(), Error> {
    match fs::remove_file(path) {
        Ok(()) => {
            notes.push(RecoveryNote::StaleTemporaryRemoved {
                path: path.to_path_buf(),
            });
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(path, "removing", e)),
    }
}
