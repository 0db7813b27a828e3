//! Bytes changed in place: single bytes of a file written where they are, and the file read
//! as it will be once they are.
//!
//! A scoring changes one byte per rated row; writing those bytes where they are costs what
//! the scoring changes, where writing a new version of the file costs the whole file. What
//! makes it safe (a journal of every byte before any is written, and the locks that keep
//! readers out meanwhile) is the business of the layers above: this module only writes,
//! checks and overlays bytes, and knows nothing of flows.

use crate::error::Error;
use crate::io::crash_point;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// One byte of a file to change: where it is, what it was, what it becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Patch {
    /// Its offset in the file.
    pub at: u64,
    /// The byte before the change.
    pub old: u8,
    /// The byte after it.
    pub new: u8,
}

/// Which of a patch's two bytes is meant: the file before the change or after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Old,
    New,
}

impl Patch {
    /// The byte on `side`.
    pub fn byte(&self, side: Side) -> u8 {
        match side {
            Side::Old => self.old,
            Side::New => self.new,
        }
    }
}

/// Writes the `side` byte of every patch at its offset, then flushes the file's data to disk.
/// The file keeps its length: every offset must lie inside it (the caller checked).
///
/// The file's modification time is moved forward by at least a nanosecond too: the kernel
/// may stamp two writes within one clock tick alike, and a process that tells versions of
/// the file apart by their identity (length, times: the panel's index) must see every change.
pub(crate) fn write(file: &File, path: &Path, patches: &[Patch], side: Side) -> Result<(), Error> {
    for patch in patches {
        file.write_all_at(&[patch.byte(side)], patch.at)
            .map_err(|e| Error::io(path, "writing in place", e))?;
        crash_point::reached();
    }
    move_modified_forward(file, path)?;
    file.sync_data()
        .map_err(|e| Error::io(path, "flushing to disk", e))?;
    crash_point::reached();
    Ok(())
}

/// Sets the file's modification time to now, or a nanosecond past the one it has if that is
/// not earlier (a clock tick, or a clock set back).
fn move_modified_forward(file: &File, path: &Path) -> Result<(), Error> {
    let modified = file
        .metadata()
        .and_then(|meta| meta.modified())
        .map_err(|e| Error::io(path, "looking at", e))?;
    let now = SystemTime::now().max(modified + Duration::from_nanos(1));
    file.set_modified(now)
        .map_err(|e| Error::io(path, "setting the modification time of", e))
}

/// The first patch whose byte in the file is neither its old nor its new one, with the byte
/// found there: a file in that state was changed by something else since the patches were
/// taken, so writing them would be a guess. `None` when every byte is one of the two.
pub(crate) fn first_misfit(
    file: &File,
    path: &Path,
    patches: &[Patch],
) -> Result<Option<(Patch, Option<u8>)>, Error> {
    let len = file
        .metadata()
        .map_err(|e| Error::io(path, "looking at", e))?
        .len();
    for patch in patches {
        if patch.at >= len {
            return Ok(Some((*patch, None)));
        }
        let mut byte = [0u8];
        file.read_exact_at(&mut byte, patch.at)
            .map_err(|e| Error::io(path, "reading", e))?;
        if byte[0] != patch.old && byte[0] != patch.new {
            return Ok(Some((*patch, Some(byte[0]))));
        }
    }
    Ok(None)
}

/// The bytes a reader sees in place of the file's own: `(offset, byte)`, ascending.
pub(crate) type Overlay = Vec<(u64, u8)>;

/// The overlay that shows `side` of every patch.
pub(crate) fn overlay(patches: &[Patch], side: Side) -> Overlay {
    let mut overlay: Overlay = patches
        .iter()
        .map(|patch| (patch.at, patch.byte(side)))
        .collect();
    overlay.sort_unstable_by_key(|&(at, _)| at);
    overlay
}

/// Lays `overlay` over `bytes`, which hold the file from offset `start` on.
pub(crate) fn lay_over(bytes: &mut [u8], start: u64, overlay: &[(u64, u8)]) {
    let first = overlay.partition_point(|&(at, _)| at < start);
    for &(at, byte) in &overlay[first..] {
        let Some(slot) = at
            .checked_sub(start)
            .and_then(|offset| usize::try_from(offset).ok())
            .and_then(|offset| bytes.get_mut(offset))
        else {
            break;
        };
        *slot = byte;
    }
}

/// A file read from its start with an overlay laid over it: the file as it will be once
/// recovery has written those bytes.
pub(crate) struct OverlaidRead<R> {
    inner: R,
    /// The offset of the next byte read.
    at: u64,
    overlay: Overlay,
}

impl<R: Read> OverlaidRead<R> {
    /// Reads `inner` from its start (offset 0) with `overlay` laid over it.
    pub fn new(inner: R, overlay: Overlay) -> OverlaidRead<R> {
        OverlaidRead {
            inner,
            at: 0,
            overlay,
        }
    }
}

// Only the panel reads rows at known offsets (its preview's rows).
#[cfg(feature = "panel")]
impl OverlaidRead<File> {
    /// Reads the same file from `offset` on, with the same overlay, leaving this reader where
    /// it is (for a few rows at known offsets).
    pub fn at(&self, offset: u64) -> OverlaidAt<'_> {
        OverlaidAt {
            file: &self.inner,
            at: offset,
            overlay: &self.overlay,
        }
    }
}

/// A file read from a given offset with an overlay laid over it ([`OverlaidRead::at`]).
#[cfg(feature = "panel")]
pub(crate) struct OverlaidAt<'a> {
    file: &'a File,
    at: u64,
    overlay: &'a [(u64, u8)],
}

#[cfg(feature = "panel")]
impl Read for OverlaidAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.file.read_at(buf, self.at)?;
        lay_over(&mut buf[..read], self.at, self.overlay);
        self.at += read as u64;
        Ok(read)
    }
}

impl<R: Read> Read for OverlaidRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        if !self.overlay.is_empty() {
            lay_over(&mut buf[..read], self.at, &self.overlay);
        }
        self.at += read as u64;
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overlaid_read_shows_the_overlay_whatever_the_read_sizes() {
        let file: Vec<u8> = (0..200u8).collect();
        let overlay = vec![(0, b'a'), (63, b'b'), (64, b'c'), (199, b'd')];
        for size in [1, 7, 64, 500] {
            let mut reader = OverlaidRead::new(&file[..], overlay.clone());
            let mut seen = Vec::new();
            let mut chunk = vec![0u8; size];
            loop {
                let read = reader.read(&mut chunk).unwrap();
                if read == 0 {
                    break;
                }
                seen.extend_from_slice(&chunk[..read]);
            }
            let mut expected = file.clone();
            for &(at, byte) in &overlay {
                expected[at as usize] = byte;
            }
            assert_eq!(seen, expected, "reads of {size}");
        }
    }

    #[test]
    fn bytes_are_written_in_place_and_a_foreign_byte_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"0,a\n0,b\n1,c\n").unwrap();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let patches = [
            Patch {
                at: 0,
                old: b'0',
                new: b'2',
            },
            Patch {
                at: 8,
                old: b'1',
                new: b'2',
            },
        ];
        write(&file, &path, &patches, Side::New).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"2,a\n0,b\n2,c\n");
        assert_eq!(first_misfit(&file, &path, &patches).unwrap(), None);
        file.write_all_at(b"x", 8).unwrap();
        assert_eq!(
            first_misfit(&file, &path, &patches).unwrap(),
            Some((patches[1], Some(b'x')))
        );
        write(&file, &path, &patches, Side::Old).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"0,a\n0,b\n1,c\n");
    }
}
