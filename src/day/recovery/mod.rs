//! Locking and recovery: the one place that knows every journal.
//!
//! Every operation that writes a day first takes the day's lock and then finishes or rolls back
//! whatever a crash interrupted ([`lock_and_recover`]): an interrupted scoring (its journal,
//! [`scoring_journal`]) and an interrupted undo (its own journal, [`undo_journal`]). Sorting,
//! restoring and making the backup change one file by one rename and need no journal: their
//! stale temporaries are removed here too.

pub(crate) mod scoring_journal;
pub(crate) mod undo_journal;

use crate::day::paths::DayPaths;
use crate::error::Error;
use crate::io::durable::DayLock;

/// Takes the day's lock and finishes or rolls back an interrupted scoring or undo.
pub(crate) fn lock_and_recover(paths: &DayPaths) -> Result<DayLock, Error> {
    let lock = DayLock::acquire(&paths.lock)?;
    scoring_journal::recover(&scoring_journal::RecoveryFiles {
        dir: &paths.dir,
        journal: &paths.journal,
        tmp: &paths.tmp,
        stale: [&paths.new, &paths.backup_tmp],
        flow: &paths.flow,
        feedback: &paths.feedback,
    })?;
    undo_journal::recover(paths)?;
    Ok(lock)
}
