//! New files that take the owner, group and permissions of the file they replace (or of the
//! day file they belong with), so that rewriting a day never changes who may read it.
//!
//! A deployment's day files are shared: `flow_scores.csv` at mode 640, group `daemon`, read by
//! the OA jobs. A file a process creates gets the process's umask and primary group instead;
//! renamed over the day it would make the flows world-readable (umask 022) or take them away
//! from the jobs (umask 077). So every file the engine creates starts private (0600) and is
//! given, on its open descriptor and before it is renamed anywhere, its model's owner (where
//! the process may: root), group (where the process may: a member of that group) and permission
//! bits. When the group cannot be kept, the group's permission bits are dropped instead of being
//! handed to the process's own group, which the day never trusted.

use crate::error::Error;
use std::fs::{self, File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{fchown, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Who owns a file and its permission bits: what a new file copies from its model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ownership {
    uid: u32,
    gid: u32,
    /// The permission bits (`rwxrwxrwx`; set-id and sticky bits are not copied).
    mode: u32,
}

impl Ownership {
    fn of(meta: &fs::Metadata) -> Ownership {
        Ownership {
            uid: meta.uid(),
            gid: meta.gid(),
            mode: meta.mode() & 0o777,
        }
    }

    /// The ownership of `target`, which a new version is about to replace by rename; `None`
    /// when there is no such file. A symbolic link is refused: the rename would replace the
    /// link with a plain file beside it and leave the file it points to as it was.
    pub fn replaced(target: &Path) -> Result<Option<Ownership>, Error> {
        let meta = match fs::symlink_metadata(target) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(target, "looking at", e)),
        };
        if meta.file_type().is_symlink() {
            let points_to = fs::read_link(target).map_err(|e| Error::io(target, "reading", e))?;
            return Err(Error::LinkedFile {
                link: target.to_path_buf(),
                target: points_to,
            });
        }
        Ok(Some(Ownership::of(&meta)))
    }

    /// The ownership of `path` (following links), the model of a file created beside it;
    /// `None` when there is no such file.
    pub fn model(path: &Path) -> Result<Option<Ownership>, Error> {
        match fs::metadata(path) {
            Ok(meta) => Ok(Some(Ownership::of(&meta))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(path, "looking at", e)),
        }
    }

    /// Gives the open `file` this ownership: owner and group where the process may, then the
    /// permission bits (without the group's when the group could not be kept).
    fn apply(&self, file: &File, path: &Path) -> Result<(), Error> {
        let meta = file
            .metadata()
            .map_err(|e| Error::io(path, "looking at", e))?;
        let mut mode = self.mode;
        if (meta.uid(), meta.gid()) != (self.uid, self.gid) {
            let group_kept = fchown(file, Some(self.uid), Some(self.gid)).is_ok()
                || fchown(file, None, Some(self.gid)).is_ok();
            if !group_kept {
                mode &= !0o070;
            }
        }
        file.set_permissions(Permissions::from_mode(mode))
            .map_err(|e| Error::io(path, "setting the permissions of", e))
    }
}

/// Creates the new file `path`, which must not exist (an existing one, or a link there, is
/// an error, never followed), for writing: with `model`'s ownership, or the process's
/// defaults when there is no model.
pub(crate) fn create_new_like(path: &Path, model: Option<&Ownership>) -> Result<File, Error> {
    // Private until the ownership is applied: never more open than the final mode.
    let initial = if model.is_some() { 0o600 } else { 0o666 };
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(initial)
        .open(path)
        .map_err(|e| Error::io(path, "creating", e))?;
    if let Some(model) = model {
        model.apply(&file, path)?;
    }
    Ok(file)
}

/// Creates the temporary `path` that will replace `target` by rename, with `target`'s
/// ownership. A stale temporary left by a crash is removed first (a link there is removed,
/// not followed).
pub(crate) fn create_replacement(path: &Path, target: &Path) -> Result<File, Error> {
    let model = Ownership::replaced(target)?;
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(path, "removing the stale temporary", e)),
    }
    create_new_like(path, model.as_ref())
}
