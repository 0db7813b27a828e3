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
use std::ops::Deref;
use std::path::Path;

/// The bytes of a file, mapped read-only (or read, where mapping is not
/// possible: empty files, other systems, a refused mapping).
pub(crate) struct FileBytes {
    inner: Inner,
}

enum Inner {
    #[cfg(unix)]
    Mapped(Mapping),
    Read(Vec<u8>),
}

impl FileBytes {
    /// Maps (or reads) the whole of `path`.
    pub fn open(path: &Path) -> Result<FileBytes, Error> {
        let mut file = File::open(path).map_err(|e| Error::io(path, "opening for reading", e))?;
        let len = file
            .metadata()
            .map_err(|e| Error::io(path, "reading the size of", e))?
            .len();
        #[cfg(unix)]
        if let Some(mapping) = usize::try_from(len)
            .ok()
            .and_then(|len| Mapping::new(&file, len))
        {
            return Ok(FileBytes {
                inner: Inner::Mapped(mapping),
            });
        }
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        std::io::Read::read_to_end(&mut file, &mut bytes)
            .map_err(|e| Error::io(path, "reading", e))?;
        Ok(FileBytes {
            inner: Inner::Read(bytes),
        })
    }
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

#[cfg(unix)]
impl Mapping {
    /// Maps the first `len` bytes of `file`; `None` when the file is empty
    /// (a mapping cannot be empty) or the system refuses.
    fn new(file: &File, len: usize) -> Option<Mapping> {
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
                libc::MAP_PRIVATE | populate(),
                file.as_raw_fd(),
                0,
            )
        };
        if start == libc::MAP_FAILED {
            return None;
        }
        let start = std::ptr::NonNull::new(start.cast::<u8>())?;
        Some(Mapping { start, len })
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
