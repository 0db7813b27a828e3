//! The recovery journal of a scoring: what to undo or finish after a crash.
//!
//! A scoring changes two files, `flow_scores.csv` (by renaming a finished
//! `.tmp` over it) and `flow_scores_fb.csv` (by appending). No single system
//! call changes both, so the journal records enough to make the pair atomic:
//!
//! 1. `begin` line, written and fsynced *before* the feedback file is touched:
//!    the feedback file's length and whether it existed.
//! 2. `prepared` line, written and fsynced once `.tmp` and the appended
//!    feedback are both on disk, *before* the rename: from here on the
//!    scoring is decided and will be finished.
//!
//! Recovery (at the next open or write, under the day's lock):
//! * no journal: nothing was under way (stale temporaries are removed);
//! * no valid `begin` line: the feedback was never touched; remove `.tmp`;
//! * `begin` but no valid `prepared`: roll back: truncate the feedback to its
//!   recorded length (or remove it if it did not exist), remove `.tmp`; a
//!   feedback file that is gone meanwhile has nothing to roll back;
//! * `prepared`: roll forward: if `.tmp` still exists the rename did not
//!   happen yet, so do it now.
//!
//! Each line carries a checksum, so a line torn by a crash reads as absent.
//! What was found is noted ([`RecoveryNote`]) for the analyst.

use crate::day::recovery::notes::{remove_stale, RecoveryNote};
use crate::error::Error;
use crate::io::durable::{remove_if_present, sync_dir};
use crate::io::ownership::{create_new_like, Ownership};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

const MAGIC: &str = "flow-edge-journal-v1";

/// What the feedback file looked like before the scoring started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FeedbackBefore {
    /// Its length in bytes (0 when it did not exist).
    pub len: u64,
    /// Whether it existed.
    pub existed: bool,
}

impl FeedbackBefore {
    /// The two journal words that record it: `<len> <0|1>`.
    pub(crate) fn to_words(self) -> String {
        format!("{} {}", self.len, u8::from(self.existed))
    }

    /// Reads the two words written by [`FeedbackBefore::to_words`].
    pub(crate) fn from_words<'a>(words: &mut impl Iterator<Item = &'a str>) -> Option<Self> {
        let len = words.next()?.parse().ok()?;
        let existed = match words.next()? {
            "0" => false,
            "1" => true,
            _ => return None,
        };
        Some(FeedbackBefore { len, existed })
    }
}

/// The state a journal file records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JournalState {
    /// The `begin` line never reached the disk whole: nothing to undo.
    Unwritten,
    /// Begun, not prepared: roll back.
    Begun(FeedbackBefore),
    /// Prepared: roll forward.
    Prepared(FeedbackBefore),
}

/// An open journal of a scoring under way.
#[derive(Debug)]
pub(crate) struct Journal {
    file: File,
}

impl Journal {
    /// Writes the `begin` line durably (file and folder entry), in a new file with `model`'s
    /// ownership (recovery removed any earlier journal; one still there is an error).
    pub fn begin(
        path: &Path,
        dir: &Path,
        before: FeedbackBefore,
        model: Option<&Ownership>,
    ) -> Result<Journal, Error> {
        let mut file = create_new_like(path, model)?;
        let body = format!("{MAGIC} begin {}", before.to_words());
        write_line(&mut file, path, &body)?;
        sync_dir(dir)?;
        Ok(Journal { file })
    }

    /// Writes the `prepared` line durably: the scoring is now decided.
    pub fn prepare(&mut self, path: &Path) -> Result<(), Error> {
        write_line(&mut self.file, path, &format!("{MAGIC} prepared"))
    }
}

/// Appends `body` and its checksum as one line, durably.
pub(crate) fn write_line(file: &mut File, path: &Path, body: &str) -> Result<(), Error> {
    let line = format!("{body} {:016x}\n", checksum(body.as_bytes()));
    file.write_all(line.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(path, "writing the journal", e))
}

/// FNV-1a: enough to tell a whole line from a torn one.
pub(crate) fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The body of a line if its checksum is right.
pub(crate) fn checked_body(line: &str) -> Option<&str> {
    let (body, sum) = line.rsplit_once(' ')?;
    let sum = u64::from_str_radix(sum, 16).ok()?;
    (sum == checksum(body.as_bytes())).then_some(body)
}

/// Reads the journal at `path`, if there is one.
pub(crate) fn read(path: &Path) -> Result<Option<JournalState>, Error> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, "reading the journal", e)),
    };
    let text = String::from_utf8_lossy(&bytes);
    // Only lines ended by a line feed were written whole.
    let mut lines = text
        .split_inclusive('\n')
        .filter_map(|line| line.strip_suffix('\n'));
    let Some(begin) = lines.next().and_then(checked_body) else {
        return Ok(Some(JournalState::Unwritten));
    };
    let before = parse_begin(begin).ok_or_else(|| Error::Journal {
        path: path.to_path_buf(),
        reason: format!("unknown first line {begin:?}"),
    })?;
    let prepared = lines
        .next()
        .and_then(checked_body)
        .is_some_and(|body| body == format!("{MAGIC} prepared"));
    Ok(Some(if prepared {
        JournalState::Prepared(before)
    } else {
        JournalState::Begun(before)
    }))
}

fn parse_begin(body: &str) -> Option<FeedbackBefore> {
    let mut words = body.split(' ');
    if words.next()? != MAGIC || words.next()? != "begin" {
        return None;
    }
    let before = FeedbackBefore::from_words(&mut words)?;
    words.next().is_none().then_some(before)
}

/// The files recovery works on.
pub(crate) struct RecoveryFiles<'a> {
    pub dir: &'a Path,
    pub journal: &'a Path,
    pub tmp: &'a Path,
    /// Temporaries of operations without a journal (sort, backup): a crash
    /// leaves them stale, and they are simply removed.
    pub stale: [&'a Path; 2],
    pub flow: &'a Path,
    pub feedback: &'a Path,
}

/// Finishes or rolls back whatever a crashed scoring left, so that the flow
/// file and the feedback file agree again, and notes what it found. Call with
/// the day's lock held.
pub(crate) fn recover(files: &RecoveryFiles, notes: &mut Vec<RecoveryNote>) -> Result<(), Error> {
    for stale in files.stale {
        remove_stale(stale, notes)?;
    }
    let journal = files.journal.to_path_buf();
    match read(files.journal)? {
        None => return remove_stale(files.tmp, notes),
        Some(JournalState::Unwritten) => {
            remove_if_present(files.tmp)?;
            notes.push(RecoveryNote::ScoringRolledBack { journal });
        }
        Some(JournalState::Begun(before)) => {
            notes.extend(roll_back_feedback(files.feedback, before)?);
            remove_if_present(files.tmp)?;
            notes.push(RecoveryNote::ScoringRolledBack { journal });
        }
        Some(JournalState::Prepared(_)) => {
            if files.tmp.exists() {
                fs::rename(files.tmp, files.flow)
                    .map_err(|e| Error::io(files.flow, "renaming into place", e))?;
            }
            notes.push(RecoveryNote::ScoringFinished { journal });
        }
    }
    sync_dir(files.dir)?;
    remove_if_present(files.journal)?;
    sync_dir(files.dir)
}

/// Puts the feedback file back as it was before a scoring began (or before the scoring an
/// undo takes back): cut back to its old length, or removed if it did not exist. Appends only
/// make it longer, so a file that is not longer is left as it is rather than padded, and a
/// file that is gone has nothing to cut back: both are returned as notes, not errors, so that
/// a feedback file removed by hand cannot stop every later operation.
pub(crate) fn roll_back_feedback(
    path: &Path,
    before: FeedbackBefore,
) -> Result<Option<RecoveryNote>, Error> {
    if !before.existed {
        return remove_if_present(path).map(|()| None);
    }
    let file = match OpenOptions::new().write(true).open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Some(RecoveryNote::FeedbackMissing {
                path: path.to_path_buf(),
                recorded_len: before.len,
            }))
        }
        Err(e) => return Err(Error::io(path, "opening to roll back", e)),
    };
    let len = file
        .metadata()
        .map_err(|e| Error::io(path, "looking at", e))?
        .len();
    if len < before.len {
        return Ok(Some(RecoveryNote::FeedbackShorter {
            path: path.to_path_buf(),
            len,
            recorded_len: before.len,
        }));
    }
    if len == before.len {
        return Ok(None);
    }
    file.set_len(before.len)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(path, "truncating back to its length before the scoring", e))?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_reads_back_its_state_and_a_torn_line_reads_as_absent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let before = FeedbackBefore {
            len: 1234,
            existed: true,
        };
        let mut journal = Journal::begin(&path, dir.path(), before, None).unwrap();
        assert_eq!(read(&path).unwrap(), Some(JournalState::Begun(before)));
        journal.prepare(&path).unwrap();
        assert_eq!(read(&path).unwrap(), Some(JournalState::Prepared(before)));

        let whole = fs::read(&path).unwrap();
        fs::write(&path, &whole[..whole.len() - 3]).unwrap();
        assert_eq!(read(&path).unwrap(), Some(JournalState::Begun(before)));
        fs::write(&path, &whole[..10]).unwrap();
        assert_eq!(read(&path).unwrap(), Some(JournalState::Unwritten));
    }

    /// The files of a test day folder.
    struct TestDay {
        dir: std::path::PathBuf,
        names: [std::path::PathBuf; 6],
    }

    impl TestDay {
        fn files(&self) -> RecoveryFiles<'_> {
            let [journal, tmp, new, backup_tmp, flow, feedback] = &self.names;
            RecoveryFiles {
                dir: &self.dir,
                journal,
                tmp,
                stale: [new, backup_tmp],
                flow,
                feedback,
            }
        }
    }

    /// A day folder with a flow file, a finished `.tmp`, a feedback file that
    /// grew from `old feedback` by one row, and a journal begun for it.
    fn interrupted_scoring(dir: &Path) -> (Journal, TestDay) {
        let day = TestDay {
            dir: dir.to_path_buf(),
            names: ["j", "flow.tmp", "flow.new", "bu.tmp", "flow", "fb"].map(|name| dir.join(name)),
        };
        let files = day.files();
        fs::write(files.flow, "old flows\n").unwrap();
        fs::write(files.feedback, "old feedback\n").unwrap();
        let before = FeedbackBefore {
            len: 13,
            existed: true,
        };
        let journal = Journal::begin(files.journal, files.dir, before, None).unwrap();
        fs::write(files.tmp, "new flows\n").unwrap();
        fs::write(files.feedback, "old feedback\nscored row\n").unwrap();
        fs::write(files.stale[0], "half sorted").unwrap();
        (journal, day)
    }

    #[test]
    fn recovery_rolls_back_a_scoring_that_was_not_prepared() {
        let dir = tempfile::tempdir().unwrap();
        let (_journal, day) = interrupted_scoring(dir.path());
        let files = day.files();
        let mut notes = Vec::new();
        recover(&files, &mut notes).unwrap();
        assert_eq!(fs::read_to_string(files.flow).unwrap(), "old flows\n");
        assert_eq!(
            fs::read_to_string(files.feedback).unwrap(),
            "old feedback\n"
        );
        for gone in [files.tmp, files.journal, files.stale[0]] {
            assert!(!gone.exists(), "{} left", gone.display());
        }
        assert_eq!(
            notes,
            [
                RecoveryNote::StaleTemporaryRemoved {
                    path: files.stale[0].to_path_buf()
                },
                RecoveryNote::ScoringRolledBack {
                    journal: files.journal.to_path_buf()
                }
            ]
        );
    }

    #[test]
    fn recovery_finishes_a_prepared_scoring_whose_rename_did_not_happen() {
        let dir = tempfile::tempdir().unwrap();
        let (mut journal, day) = interrupted_scoring(dir.path());
        let files = day.files();
        journal.prepare(files.journal).unwrap();
        recover(&files, &mut Vec::new()).unwrap();
        assert_eq!(fs::read_to_string(files.flow).unwrap(), "new flows\n");
        assert_eq!(
            fs::read_to_string(files.feedback).unwrap(),
            "old feedback\nscored row\n"
        );
        assert!(!files.tmp.exists() && !files.journal.exists());
    }
}
