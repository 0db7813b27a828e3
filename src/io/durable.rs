//! The small steps every crash-safe write is made of: temporaries written on a
//! thread of their own, fsync of files and folders, atomic replacement. (The
//! day's lock is [`crate::io::lock`].)

use crate::error::Error;
use crate::io::cache::CacheDropper;
use crate::io::gather::{write_all_vectored, Writeback};
use crate::io::mapped::FileBytes;
use crate::io::ownership::create_replacement;
use std::fs::{self, File};
use std::io::{self, IoSlice, Write};
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Flushes a folder's entries (new, renamed, removed names) to disk.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|folder| folder.sync_all())
        .map_err(|e| Error::io(dir, "flushing the folder to disk", e))
}

/// Creates the temporary `path` that will replace `target`, with `target`'s owner, group and
/// permissions ([`create_replacement`]), written by a background thread.
pub(crate) fn create_temporary(path: &Path, target: &Path) -> Result<SyncingWriter, Error> {
    let file = create_replacement(path, target)?;
    Ok(SyncingWriter::new(file, path))
}

/// Flushes a temporary file's buffer and its bytes to disk.
pub(crate) fn finish_temporary(path: &Path, writer: SyncingWriter) -> Result<(), Error> {
    writer
        .finish()
        .map_err(|e| Error::io(path, "writing and flushing to disk", e))
}

/// Bytes handed to the writing thread at a time by `write_all`.
const CHUNK: usize = 1 << 20;
/// Chunks that may wait for the writing thread (chunks and the blocks of a
/// streaming pass are 1 MiB: this bounds what waits to ~8 MiB).
const CHUNKS_IN_FLIGHT: usize = 8;
/// A writer whose file is written and flushed to disk on its own thread.
pub(crate) struct SyncingWriter {
    buffer: Vec<u8>,
    /// Set when the writer is dropped unfinished (an abandoned temporary):
    /// the thread then stops instead of writing and syncing the rest.
    abandoned: Arc<AtomicBool>,
    chunks: Option<SyncSender<Chunk>>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

/// A block of a mapped file to write, with some fields replaced by a
/// severity digit.
pub(crate) struct MappedBlock {
    /// The file's bytes (shared with the pass reading them).
    pub bytes: Arc<FileBytes>,
    /// Where the block lies in the file.
    pub range: Range<usize>,
    /// Ranges of the file (inside `range`, in order, not overlapping) to
    /// write as the given digit instead.
    pub changes: Vec<(Range<usize>, u8)>,
}

/// What the writing thread is given.
enum Chunk {
    /// Bytes of the writer's own buffer.
    Owned(Vec<u8>),
    /// A block of a mapped file; `replacing` when that file is the one the
    /// written file will replace, so its page cache can go as it is written.
    Mapped { block: MappedBlock, replacing: bool },
}

impl SyncingWriter {
    fn new(file: File, path: &Path) -> SyncingWriter {
        let (chunks, receiver) = sync_channel::<Chunk>(CHUNKS_IN_FLIGHT);
        let abandoned = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&abandoned);
        let name = format!("flow-edge writer {}", path.display());
        let thread = std::thread::Builder::new()
            .name(name)
            .spawn(move || write_chunks(file, receiver, &stop));
        match thread {
            Ok(thread) => SyncingWriter {
                buffer: Vec::with_capacity(CHUNK),
                abandoned,
                chunks: Some(chunks),
                thread: Some(thread),
            },
            // No thread: `write` reports the failure on first use.
            Err(_) => SyncingWriter {
                buffer: Vec::new(),
                abandoned,
                chunks: None,
                thread: None,
            },
        }
    }

    fn hand_over(&mut self) -> io::Result<()> {
        let bytes = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK));
        self.send(Chunk::Owned(bytes))
    }

    /// Writes a block of a mapped file (with its changes) without copying
    /// it. `replacing`: the mapped file is the one this file will replace.
    pub fn write_mapped(&mut self, block: MappedBlock, replacing: bool) -> io::Result<()> {
        if self.chunks.is_none() {
            return Err(io::Error::other("the writing thread is not running"));
        }
        if !self.buffer.is_empty() {
            self.hand_over()?;
        }
        self.send(Chunk::Mapped { block, replacing })
    }

    fn send(&mut self, chunk: Chunk) -> io::Result<()> {
        let sent = match &self.chunks {
            Some(chunks) => chunks.send(chunk).is_ok(),
            None => false,
        };
        if sent {
            Ok(())
        } else {
            // The thread stopped: its error says why.
            self.chunks = None;
            Err(self
                .join()
                .err()
                .unwrap_or_else(|| io::Error::other("the writing thread stopped")))
        }
    }

    fn join(&mut self) -> io::Result<()> {
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the writing thread panicked"))),
            None => Err(io::Error::other("the writing thread could not be started")),
        }
    }

    /// Writes what is left, waits for the thread and flushes the file to disk.
    pub fn finish(mut self) -> io::Result<()> {
        if !self.buffer.is_empty() {
            self.hand_over()?;
        }
        self.chunks = None;
        self.join()
    }
}

fn write_chunks(mut file: File, chunks: Receiver<Chunk>, abandoned: &AtomicBool) -> io::Result<()> {
    // The disk starts on what is written as it goes (see `Writeback`).
    let mut writeback = Writeback::default();
    // Created for the first block of a file being replaced.
    let mut cache: Option<CacheDropper> = None;
    for chunk in chunks {
        if abandoned.load(Ordering::Relaxed) {
            return Ok(());
        }
        let written = match chunk {
            Chunk::Owned(bytes) => {
                file.write_all(&bytes)?;
                bytes.len() as u64
            }
            Chunk::Mapped { block, replacing } => {
                let written = write_changed(&mut file, &block)?;
                // Done with these bytes: out of this process's memory, and
                // out of the page cache when their file is being replaced.
                block.bytes.forget(block.range.clone());
                if replacing && cache.is_none() {
                    cache = CacheDropper::new(block.bytes.file());
                }
                if let (true, Some(cache)) = (replacing, &cache) {
                    cache.done_with(block.range.start, block.range.len());
                }
                written
            }
        };
        writeback.wrote(&file, written)?;
    }
    if abandoned.load(Ordering::Relaxed) {
        return Ok(());
    }
    file.sync_all()
}

/// The digits a changed field is written as.
const DIGITS: &[u8; 10] = b"0123456789";

/// Writes a mapped block with its changes: the unchanged stretches straight
/// from the mapping, each change as its digit, in `writev` batches. Returns
/// the bytes written (fewer than the block's when a quoted `sev` became a
/// digit).
fn write_changed(file: &mut File, block: &MappedBlock) -> io::Result<u64> {
    let mut pieces: Vec<IoSlice<'_>> = Vec::with_capacity(2 * block.changes.len() + 1);
    let mut at = block.range.start;
    for (span, digit) in &block.changes {
        pieces.push(IoSlice::new(&block.bytes[at..span.start]));
        let digit = usize::from(*digit);
        pieces.push(IoSlice::new(&DIGITS[digit..digit + 1]));
        at = span.end;
    }
    pieces.push(IoSlice::new(&block.bytes[at..block.range.end]));
    let len = pieces.iter().map(|piece| piece.len() as u64).sum();
    write_all_vectored(file, &mut pieces)?;
    Ok(len)
}

impl Drop for SyncingWriter {
    fn drop(&mut self) {
        // `finish` joins the thread first; only an unfinished writer gets here
        // with the thread still running.
        if self.thread.is_some() {
            self.abandoned.store(true, Ordering::Relaxed);
        }
    }
}

impl Write for SyncingWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.write_all(bytes)?;
        Ok(bytes.len())
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.chunks.is_none() {
            return Err(io::Error::other("the writing thread is not running"));
        }
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            self.hand_over()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Atomically replaces `target` with the finished temporary `from`, and makes
/// the rename durable.
pub(crate) fn replace(from: &Path, target: &Path, dir: &Path) -> Result<(), Error> {
    fs::rename(from, target).map_err(|e| Error::io(target, "renaming into place", e))?;
    sync_dir(dir)
}

/// Drops `value` on a thread of its own, for the handles of a file that was
/// just replaced: closing the last one frees the old version, which means
/// dropping its pages from the page cache and, on a disk mounted with
/// `discard`, waiting for the disk to discard its blocks (BENCHMARKS.md,
/// "Figures behind the code"). The caller, an analyst's notebook cell, need
/// not wait.
/// A process that exits at once still waits for it.
pub(crate) fn drop_in_background<T: Send + 'static>(value: T) {
    // Where no thread can be started, the closure, and `value` with it, is
    // dropped right here instead.
    let _ = std::thread::Builder::new()
        .name("flow-edge release".to_owned())
        .spawn(move || drop(value));
}

/// Removes a file if it exists.
pub(crate) fn remove_if_present(path: &Path) -> Result<(), Error> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(path, "removing", e)),
    }
}

/// Writes bytes, naming the file on failure.
pub(crate) fn write_to(writer: &mut impl Write, path: &Path, bytes: &[u8]) -> Result<(), Error> {
    writer
        .write_all(bytes)
        .map_err(|e| Error::io(path, "writing", e))
}
