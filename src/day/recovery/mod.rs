//! Locking and recovery: the one place that knows every journal.
//!
//! Every operation that writes a day first takes the day's lock and then finishes or rolls back
//! whatever a crash interrupted ([`lock_and_recover`]): an interrupted scoring (its journal,
//! [`scoring_journal`]) and an interrupted undo (its own journal, [`undo_journal`]). Sorting,
//! restoring and making the backup change one file by one rename and need no journal: their
//! stale temporaries are removed here too.

pub(crate) mod notes;
pub(crate) mod scoring_journal;
pub(crate) mod undo_journal;

use crate::day::paths::DayPaths;
use crate::error::Error;
use crate::io::durable::DayLock;
pub use notes::RecoveryNote;

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
    let lock = DayLock::acquire(&paths.lock)?;
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
