//! The copy of a day's feedback that scp sends.
//!
//! scp must not read `flow_scores_fb.csv` itself: a scoring in another notebook may be
//! appending to it. So the feedback is copied under the day's lock, and scp reads the copy.
//! Every upload has a copy of its own (`flow_scores_fb.csv.upload.<pid>.<n>`, created with
//! `O_EXCL`), so two uploads of one day never write or remove each other's copy. Each copy is
//! held with an exclusive advisory lock from its creation until after its removal.
//!
//! A copy left by a process that died mid-upload is stale: before making its own, an upload
//! removes every copy whose lock it can take. Both happen under the day's lock and a copy is
//! locked before that lock is released, so a copy that can be locked has no live owner.

use super::UploadError;
use crate::day::recovery::lock_and_recover;
use crate::{DayPaths, Error};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Every snapshot's name starts so (the name of older versions' single snapshot, too).
const PREFIX: &str = "flow_scores_fb.csv.upload";

/// How many names to try when others are taken (by other hosts on a shared folder).
const ATTEMPTS: u64 = 64;

/// Numbers the snapshots of this process.
static NEXT: AtomicU64 = AtomicU64::new(0);

/// A private, locked copy of a day's feedback; removed when dropped.
#[derive(Debug)]
pub(super) struct Snapshot {
    path: PathBuf,
    /// Holds the lock that tells cleaners the copy is in use.
    file: File,
}

impl Snapshot {
    /// Copies the day's feedback as it stands, under the day's lock, after removing stale
    /// copies. Waits for the day's lock like every writer of the day.
    pub(super) fn take(paths: &DayPaths) -> Result<Snapshot, UploadError> {
        let _day = lock_and_recover(paths).map_err(UploadError::Day)?;
        remove_stale(&paths.dir);
        let mut feedback = match File::open(&paths.feedback) {
            Ok(file) if file.metadata().is_ok_and(|meta| meta.is_file()) => file,
            _ => {
                return Err(UploadError::MissingFeedback {
                    path: paths.feedback.clone(),
                })
            }
        };
        let mode = feedback
            .metadata()
            .map(|meta| meta.mode() & 0o777)
            .unwrap_or(0o600);
        let (path, file) = create_unique(&paths.dir, mode)?;
        // From here on, dropping `snapshot` (on an error too) removes the copy.
        let snapshot = Snapshot { path, file };
        snapshot
            .file
            .lock()
            .map_err(|e| io_error(&snapshot.path, e))?;
        io::copy(&mut feedback, &mut &snapshot.file).map_err(|e| {
            UploadError::Day(Error::io(&snapshot.path, "copying the feedback into", e))
        })?;
        Ok(snapshot)
    }

    /// The copy's path, for scp.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        // Removed while still locked (the lock goes with the file handle, after this), so a
        // cleaner never sees an unlocked copy that is still in use.
        let _ = std::fs::remove_file(&self.path);
    }
}

fn io_error(path: &Path, error: io::Error) -> UploadError {
    UploadError::Day(Error::io(path, "making the upload copy", error))
}

/// Creates `flow_scores_fb.csv.upload.<pid>.<n>` with a name no other file has.
fn create_unique(dir: &Path, mode: u32) -> Result<(PathBuf, File), UploadError> {
    let mut last = None;
    for _ in 0..ATTEMPTS {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("{PREFIX}.{}.{n}", std::process::id()));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&path)
        {
            Ok(file) => return Ok((path, file)),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => last = Some(error),
            Err(error) => return Err(io_error(&path, error)),
        }
    }
    let error = last.unwrap_or_else(|| io::Error::from(io::ErrorKind::AlreadyExists));
    Err(io_error(&dir.join(PREFIX), error))
}

/// Removes the snapshots nobody holds. Best effort: a copy that cannot be examined is left.
fn remove_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let is_snapshot = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with(PREFIX));
        if is_snapshot && is_abandoned(&entry.path()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// True for a regular file whose lock is free. Opened without following a link and without
/// waiting (a FIFO planted under that name would block an ordinary open forever).
fn is_abandoned(path: &Path) -> bool {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path);
    match file {
        Ok(file) => file.metadata().is_ok_and(|meta| meta.is_file()) && file.try_lock().is_ok(),
        Err(_) => false,
    }
}
