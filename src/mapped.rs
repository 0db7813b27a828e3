//! A whole file's bytes without copying them: the file mapped read-only.
//!
//! Reading a 177 MB day with `fs::read` costs more than scanning it: the
//! kernel first has to fault in and zero 177 MB of fresh memory, then copy
//! the page cache into it, and frees it all again at the end. A read-only
//! mapping shows the page cache itself: no zeroing, no copy, nothing to free
//! but the page table.
//!
//! # The trade-off: truncation while mapped
//!
//! If another process shrinks the file while it is mapped, touching the
//! pages past the new end raises `SIGBUS` and the process dies (a read would
//! have returned an error or short data instead). The mapping is only made
//! under the day's lock ([`crate::durable::DayLock`]), and flow-edge never
//! truncates a day's files in place: every writer takes that lock and
//! replaces files by renaming a finished temporary over them, which leaves
//! the mapped (old) file untouched. Only a program outside flow-edge that
//! rewrites `flow_scores.csv` in place during a sort could cause the signal,
//! and such a program would already corrupt a sort that reads the file (it
//! would read a torn mix of old and new bytes). Dying there leaves every file
//! whole: the sort's `.new` temporary is not renamed, and the next writer
//! removes it when it takes the lock.
//!
//! A private mapping is used so that even the kernel cannot let a write
//! through it reach the file; the mapping is never written.

use crate::error::Error;
use std::fs::File;
use std::ops::{Deref, Range};
use std::path::Path;

/// The bytes of a file, mapped read-only (or read, where mapping is not
/// possible: empty files, other systems, a refused mapping).
pub(crate) struct FileBytes {
    inner: Inner,
    /// The file, open for as long as its bytes are used (for advice about
    /// its page cache, see [`crate::cache`]).
    file: File,
}

enum Inner {
    #[cfg(unix)]
    Mapped(Mapping),
    Read(Vec<u8>),
}

impl FileBytes {
    /// Maps (or reads) the whole of `path`, faulting every page in at once:
    /// for a pass that keeps the whole file (the sort).
    pub fn open(path: &Path) -> Result<FileBytes, Error> {
        FileBytes::open_with(path, Faulting::AllAtOnce)
    }

    /// Maps (or reads) the whole of `path` for one pass from start to end,
    /// which gives back what it is done with ([`FileBytes::forget`]), so
    /// the process never holds more than a few blocks of the file.
    pub fn open_streaming(path: &Path) -> Result<FileBytes, Error> {
        FileBytes::open_with(path, Faulting::AsRead)
    }

    fn open_with(path: &Path, faulting: Faulting) -> Result<FileBytes, Error> {
        let mut file = File::open(path).map_err(|e| Error::io(path, "opening for reading", e))?;
        let len = file
            .metadata()
            .map_err(|e| Error::io(path, "reading the size of", e))?
            .len();
        #[cfg(unix)]
        if let Some(mapping) = usize::try_from(len)
            .ok()
            .and_then(|len| Mapping::new(&file, len, faulting))
        {
            return Ok(FileBytes {
                inner: Inner::Mapped(mapping),
                file,
            });
        }
        let _ = faulting;
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        std::io::Read::read_to_end(&mut file, &mut bytes)
            .map_err(|e| Error::io(path, "reading", e))?;
        Ok(FileBytes {
            inner: Inner::Read(bytes),
            file,
        })
    }

    /// The file the bytes come from.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The pass is done with `range`: its whole pages leave the process's
    /// memory (they stay in the page cache; touching them again faults them
    /// back in unchanged). Keeps a streaming pass's resident memory to the
    /// few blocks in flight instead of the whole file.
    pub fn forget(&self, range: Range<usize>) {
        match &self.inner {
            #[cfg(unix)]
            Inner::Mapped(mapping) => mapping.forget(range),
            Inner::Read(_) => {}
        }
    }
}

/// When the pages of a mapping are faulted in.
#[derive(Clone, Copy)]
enum Faulting {
    /// All at mapping time (one call instead of a fault every few pages).
    AllAtOnce,
    /// As they are read, with read-ahead for a sequential pass.
    AsRead,
}

impl Deref for FileBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.inner {
            #[cfg(unix)]
            Inner::Mapped(mapping) => mapping.bytes(),
            Inner::Read(bytes) => bytes,
        }
    }
}

/// A read-only private mapping of a whole file, unmapped when dropped.
#[cfg(unix)]
struct Mapping {
    start: std::ptr::NonNull<u8>,
    len: usize,
}

// SAFETY: a `Mapping` is read-only memory owned by the value (unmapped only
// when it is dropped); reading it from any thread, or moving it to another,
// is as safe as for a `Box<[u8]>`. `forget` only drops page table entries
// of a mapping that is never written (see `advise`).
#[cfg(unix)]
unsafe impl Send for Mapping {}
// SAFETY: see `Send` above: shared references only read.
#[cfg(unix)]
unsafe impl Sync for Mapping {}

#[cfg(unix)]
impl Mapping {
    /// Maps the first `len` bytes of `file`; `None` when the file is empty
    /// (a mapping cannot be empty) or the system refuses.
    fn new(file: &File, len: usize, faulting: Faulting) -> Option<Mapping> {
        use std::os::fd::AsRawFd;
        if len == 0 {
            return None;
        }
        // SAFETY: a new mapping at an address the kernel picks, of a file
        // descriptor that is open for reading, read-only and private: it
        // cannot alias or change any memory Rust knows about. The result is
        // checked for MAP_FAILED before use.
        let start = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE
                    | match faulting {
                        Faulting::AllAtOnce => populate(),
                        Faulting::AsRead => 0,
                    },
                file.as_raw_fd(),
                0,
            )
        };
        if start == libc::MAP_FAILED {
            return None;
        }
        let start = std::ptr::NonNull::new(start.cast::<u8>())?;
        let mapping = Mapping { start, len };
        if let Faulting::AsRead = faulting {
            mapping.advise(0..len, libc::MADV_SEQUENTIAL);
        }
        Some(mapping)
    }

    /// Drops the whole pages inside `range` from the mapping's page table.
    fn forget(&self, range: Range<usize>) {
        let page = page_size();
        let start = range.start.div_ceil(page) * page;
        let end = range.end.min(self.len) / page * page;
        if start < end {
            self.advise(start..end, libc::MADV_DONTNEED);
        }
    }

    /// Gives the kernel advice about a page-aligned range of the mapping.
    /// Advice only: a refusal changes nothing but speed or memory.
    fn advise(&self, range: Range<usize>, advice: libc::c_int) {
        // SAFETY: the range lies inside the mapping (callers clamp it to
        // `len`, and its start is page-aligned as the mapping's is). For a
        // private mapping that is never written, MADV_DONTNEED only drops
        // page table entries: the next read of those bytes faults the same
        // file contents back in, so any slice of them stays valid.
        unsafe {
            libc::madvise(
                self.start.as_ptr().add(range.start).cast(),
                range.end - range.start,
                advice,
            );
        }
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `start..start + len` is mapped readable for as long as
        // `self` lives (it is unmapped only in `drop`), and nothing writes
        // to it: the mapping is read-only and private, and flow-edge never
        // changes a day's file in place while holding its lock (see the
        // module docs for what a truncation by another program does).
        unsafe { std::slice::from_raw_parts(self.start.as_ptr(), self.len) }
    }
}

/// The size of a memory page.
#[cfg(unix)]
fn page_size() -> usize {
    // SAFETY: sysconf only reads its argument.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size)
        .ok()
        .filter(|&size| size > 0)
        .unwrap_or(4096)
}

/// Mapping flags that fault the whole file in at once: one call instead of a
/// page fault every few pages while scanning.
#[cfg(unix)]
fn populate() -> libc::c_int {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    return libc::MAP_POPULATE;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    return 0;
}

#[cfg(unix)]
impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the range `new` mapped; the borrow checker
        // guarantees no slice from `bytes` outlives `self`. A failure leaves
        // the range mapped, which only costs address space.
        unsafe {
            libc::munmap(self.start.as_ptr().cast(), self.len);
        }
    }
}
