//! Which version of a file is on disk, to tell whether another writer replaced it.

use crate::error::Error;
use std::fs::{self, File, Metadata};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Which version of a file is on disk: a rename or a write changes it (a write in place moves
/// the modification time forward, see [`crate::io::patch::write`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileIdentity {
    dev: u64,
    ino: u64,
    len: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl FileIdentity {
    /// The identity of the file at `path` now.
    pub fn of(path: &Path) -> Result<FileIdentity, Error> {
        let meta = fs::metadata(path).map_err(|e| Error::io(path, "looking at", e))?;
        Ok(FileIdentity::of_metadata(&meta))
    }

    /// The identity of the open `file` (`path` names it in errors): the version a reader
    /// holds, whatever has been renamed over its name since.
    pub fn of_file(file: &File, path: &Path) -> Result<FileIdentity, Error> {
        let meta = file
            .metadata()
            .map_err(|e| Error::io(path, "looking at", e))?;
        Ok(FileIdentity::of_metadata(&meta))
    }

    fn of_metadata(meta: &Metadata) -> FileIdentity {
        let nanos =
            |seconds: i64, nanos: i64| i128::from(seconds) * 1_000_000_000 + i128::from(nanos);
        FileIdentity {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime_ns: nanos(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: nanos(meta.ctime(), meta.ctime_nsec()),
        }
    }

    /// The file's length in bytes.
    // Used only by the panel, to tell whether its index's row offsets still hold.
    #[cfg_attr(not(feature = "panel"), allow(dead_code))]
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn same_file(&self, dev: u64, ino: u64) -> bool {
        self.dev == dev && self.ino == ino
    }
}
