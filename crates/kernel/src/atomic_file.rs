//! Whole-file writes that a crash never leaves half done.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to a temporary file beside `target`, makes it durable, then renames it into
/// place: a reader, or a crash at any point, sees the old file or the new one, never a part.
/// The temporary name carries the process id, so two processes writing the same target at
/// once do not write into each other's file; the last rename wins.
pub fn write_atomically(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = temporary_beside(target);
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(error) = written.and_then(|()| std::fs::rename(&temporary, target)) {
        let _ = std::fs::remove_file(&temporary);
        return Err(error);
    }
    Ok(())
}

fn temporary_beside(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_whole_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("config.toml");
        std::fs::write(&target, "old and longer than the new").unwrap();
        write_atomically(&target, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "only the target is left: {names:?}");
    }

    #[test]
    fn a_failed_rename_keeps_what_was_there_and_removes_the_temporary() {
        let dir = tempfile::tempdir().unwrap();
        // A folder in the way: the rename cannot replace it.
        let target = dir.path().join("config.toml");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("kept"), "kept").unwrap();
        assert!(write_atomically(&target, b"new").is_err());
        assert_eq!(
            std::fs::read_to_string(target.join("kept")).unwrap(),
            "kept"
        );
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary is left: {names:?}");
    }
}
