//! Writing a temporary file from pieces of memory that is already there
//! (the rows of a mapped file, in a new order), without copying them into a
//! buffer first: long pieces go to the kernel in batches of `writev`. Short
//! ones (rows scattered by the sort) are copied into a buffer after all:
//! the kernel's cost per `writev` piece is several times that of copying a
//! row (BENCHMARKS.md, "Figures behind the code").
//!
//! Like [`crate::io::durable::SyncingWriter`], the writer starts the disk on what
//! it wrote as it goes ([`Writeback`]). Here the caller's thread does the
//! writing: it has nothing else to do meanwhile, and starting the disk does
//! not wait for it.

use crate::error::Error;
use crate::io::ownership::create_replacement;
use std::fs::File;
use std::io::{self, IoSlice, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Pieces per `writev` call (Linux and the BSDs refuse more than 1024).
const SLICES_PER_WRITE: usize = 1024;
/// Bytes per `writev` call at most: pieces longer than this are split, so
/// that the disk is started every [`SYNC_EVERY`] bytes or so. Not more: the
/// kernel sizes the page cache's folios after the write, and 4 MiB writes
/// (2 MiB folios) sometimes made the copy several times slower when memory
/// is fragmented; 1 MiB writes, like `dd bs=1M`, never did (BENCHMARKS.md,
/// "Figures behind the code").
const BYTES_PER_WRITE: usize = 1 << 20;
/// Pieces shorter than this are copied into a buffer rather than handed to
/// the kernel one by one.
const COPY_BELOW: usize = 4096;
/// The disk is started on the written bytes after this many.
const SYNC_EVERY: u64 = 32 << 20;

/// A temporary file being written from borrowed pieces (see the module
/// docs). Dropping it unfinished leaves a partial temporary, which the
/// next writer of the day removes.
pub(crate) struct GatherWriter<'a> {
    file: File,
    path: PathBuf,
    /// What the next `writev` writes, in order, and its bytes.
    batch: Vec<Piece<'a>>,
    batch_bytes: usize,
    /// The short pieces of the batch, copied one after the other.
    copied: Vec<u8>,
    writeback: Writeback,
}

/// One piece of a batch.
enum Piece<'a> {
    /// Written from where it is.
    Borrowed(&'a [u8]),
    /// Written from the buffer of copies (short pieces that followed each
    /// other in the batch, copied next to each other).
    Copied(Range<usize>),
}

impl<'a> GatherWriter<'a> {
    /// Creates the temporary `path` that will replace `target`, with `target`'s owner, group
    /// and permissions.
    pub fn create(path: &Path, target: &Path) -> Result<GatherWriter<'a>, Error> {
        let file = create_replacement(path, target)?;
        Ok(GatherWriter {
            file,
            path: path.to_path_buf(),
            batch: Vec::with_capacity(SLICES_PER_WRITE),
            batch_bytes: 0,
            copied: Vec::new(),
            writeback: Writeback::default(),
        })
    }

    /// Appends `bytes` to the file (written by a later call or `finish`).
    pub fn push(&mut self, mut bytes: &'a [u8]) -> Result<(), Error> {
        if bytes.len() < COPY_BELOW {
            return self.copy(bytes);
        }
        while !bytes.is_empty() {
            let (piece, rest) = bytes.split_at(bytes.len().min(BYTES_PER_WRITE - self.batch_bytes));
            self.batch.push(Piece::Borrowed(piece));
            self.batch_bytes += piece.len();
            bytes = rest;
            self.write_if_full()?;
        }
        Ok(())
    }

    /// Appends a short piece to the buffer of copies.
    fn copy(&mut self, bytes: &[u8]) -> Result<(), Error> {
        if bytes.is_empty() {
            // An empty slice in a `writev` would look like a write of nothing.
            return Ok(());
        }
        if self.copied.capacity() == 0 {
            self.copied.reserve_exact(BYTES_PER_WRITE + COPY_BELOW);
        }
        let from = self.copied.len();
        self.copied.extend_from_slice(bytes);
        let to = self.copied.len();
        match self.batch.last_mut() {
            Some(Piece::Copied(run)) if run.end == from => run.end = to,
            _ => self.batch.push(Piece::Copied(from..to)),
        }
        self.batch_bytes += bytes.len();
        self.write_if_full()
    }

    /// Writes the batch once it holds a write's worth of bytes or pieces.
    fn write_if_full(&mut self) -> Result<(), Error> {
        if self.batch.len() >= SLICES_PER_WRITE || self.batch_bytes >= BYTES_PER_WRITE {
            self.write_batch()?;
        }
        Ok(())
    }

    /// Cuts the file back to its first `len` bytes, after writing what is
    /// batched (for bytes written ahead that turned out wrong).
    pub fn truncate(&mut self, len: u64) -> Result<(), Error> {
        self.write_batch()?;
        if self.writeback.written() > len {
            self.file
                .set_len(len)
                .and_then(|()| self.file.seek(SeekFrom::Start(len)))
                .map_err(|e| Error::io(&self.path, "cutting back", e))?;
            self.writeback.cut_to(len);
        }
        Ok(())
    }

    /// Writes the rest and flushes the whole file to disk.
    pub fn finish(mut self) -> Result<(), Error> {
        self.write_batch()?;
        self.file
            .sync_all()
            .map_err(|e| Error::io(&self.path, "flushing to disk", e))
    }

    /// Writes the batch, pieces and copies in their order, in one `writev`
    /// (more if the kernel writes less).
    fn write_batch(&mut self) -> Result<(), Error> {
        let mut slices: Vec<IoSlice<'_>> = self
            .batch
            .iter()
            .map(|piece| match piece {
                Piece::Borrowed(bytes) => IoSlice::new(bytes),
                Piece::Copied(range) => IoSlice::new(&self.copied[range.clone()]),
            })
            .collect();
        write_all_vectored(&mut self.file, &mut slices)
            .map_err(|e| Error::io(&self.path, "writing", e))?;
        let written = self.batch_bytes as u64;
        self.batch.clear();
        self.batch_bytes = 0;
        self.copied.clear();
        self.writeback
            .wrote(&self.file, written)
            .map_err(|e| Error::io(&self.path, "flushing to disk", e))?;
        Ok(())
    }
}

/// Writes every byte of `slices` (which it uses up), retrying short writes.
pub(crate) fn write_all_vectored(
    file: &mut File,
    mut slices: &mut [IoSlice<'_>],
) -> io::Result<()> {
    while !slices.is_empty() {
        match file.write_vectored(slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(written) => IoSlice::advance_slices(&mut slices, written),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// How much of a file being written the disk has been asked to write: every
/// [`SYNC_EVERY`] bytes written, it is asked to start on them, so that the
/// disk works while the rest is produced and the final fsync only has the
/// tail left. Without it, Linux would keep the whole file in the page cache
/// until the fsync and a pass would cost its own time plus the disk's
/// instead of the larger of the two. Starting (`sync_file_range`) rather than
/// waiting (`fdatasync`, during which the writer stalled: BENCHMARKS.md,
/// "Figures behind the code") keeps the writer going.
#[derive(Debug, Default)]
pub(crate) struct Writeback {
    written: u64,
    started: u64,
}

impl Writeback {
    /// `len` more bytes were written to `file`.
    pub fn wrote(&mut self, file: &File, len: u64) -> io::Result<()> {
        self.written += len;
        if self.written - self.started >= SYNC_EVERY {
            start_writeback(file, self.started, self.written - self.started)?;
            self.started = self.written;
        }
        Ok(())
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The file was cut back to `len` bytes.
    pub fn cut_to(&mut self, len: u64) {
        self.written = self.written.min(len);
        self.started = self.started.min(len);
    }
}

/// Starts writing `len` bytes from `offset` to disk without waiting for them
/// (the final fsync waits). Where the system cannot start without waiting,
/// it waits.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn start_writeback(file: &File, offset: u64, len: u64) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return file.sync_data();
    };
    // SAFETY: a plain system call on an open descriptor; it reads no memory
    // of ours.
    let result = unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE)
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn start_writeback(file: &File, _offset: u64, _len: u64) -> io::Result<()> {
    file.sync_data()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_of_every_size_are_written_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.new");
        let big: Vec<u8> = (0..3 * BYTES_PER_WRITE + 17).map(|i| i as u8).collect();
        let small: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let mut expected = Vec::new();
        let mut out = GatherWriter::create(&path, &dir.path().join("out")).unwrap();
        // More pieces than one `writev` takes, empty ones, and pieces larger
        // than a batch.
        for (at, piece) in small.chunks(3).enumerate() {
            out.push(piece).unwrap();
            out.push(&[]).unwrap();
            expected.extend_from_slice(piece);
            if at % 700 == 0 {
                out.push(&big).unwrap();
                expected.extend_from_slice(&big);
            }
        }
        out.finish().unwrap();
        assert!(std::fs::read(&path).unwrap() == expected);
    }

    #[test]
    fn an_empty_piece_alone_in_a_batch_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.new");
        let long = vec![b'x'; 2 * COPY_BELOW];
        let mut out = GatherWriter::create(&path, &dir.path().join("out")).unwrap();
        out.push(&[]).unwrap();
        out.truncate(0).unwrap();
        out.push(&long).unwrap();
        out.truncate(long.len() as u64).unwrap();
        out.push(&[]).unwrap();
        out.finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), long);
    }

    #[test]
    fn a_truncated_file_goes_on_from_the_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.new");
        let mut out = GatherWriter::create(&path, &dir.path().join("out")).unwrap();
        out.push(b"header\nrow 1\nrow 2\n").unwrap();
        out.truncate(13).unwrap();
        out.push(b"row 3\n").unwrap();
        out.truncate(100).unwrap();
        out.finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"header\nrow 1\nrow 3\n");
    }
}
