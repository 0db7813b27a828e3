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
        let file = File::open(path).map_err(|e| Error::io(path, "opening for reading", e))?;
        let len = file
            .metadata()
            .map_err(|e| Error::io(path, "reading the size of", e))?
            .len();
        #[cfg(unix)]
        let file = match usize::try_from(len) {
            Ok(len) => match Mapping::new(file, len) {
                Ok(mapping) => {
                    return Ok(FileBytes {
                        inner: Inner::Mapped(mapping),
                    })
                }
                Err(file) => file,
            },
            Err(_) => file,
        };
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        std::io::Read::read_to_end(&mut &file, &mut bytes)
            .map_err(|e| Error::io(path, "reading", e))?;
        Ok(FileBytes {
            inner: Inner::Read(bytes),
        })
    }

    /// Lets the kernel drop its copy of the first `len` bytes, which the
    /// caller will not read again (it may, but then they are read from disk).
    ///
    /// The sort replaces the file it maps, and the kernel frees all of a
    /// replaced file's cache when the last reference goes, after the rename:
    /// about 20 ms for a 177 MB day, on the critical path. Dropping the
    /// rows already written while the new file is flushed to disk takes that
    /// off it. Only pages wholly inside the range are dropped.
    pub fn forget(&self, len: usize) {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Inner::Mapped(mapping) = &self.inner {
            mapping.forget(len);
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let _ = len;
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
    /// The mapped file, for [`FileBytes::forget`] (which only Linux has).
    #[cfg_attr(not(any(target_os = "linux", target_os = "android")), allow(dead_code))]
    file: File,
}

// SAFETY: the mapping is only ever read (it is mapped read-only), and the
// two calls made through a shared reference besides reads, `madvise` and
// `posix_fadvise` in `forget`, are system calls that are safe to make from
// any thread at any time; unmapping needs `&mut self` (drop).
#[cfg(unix)]
unsafe impl Sync for Mapping {}
// SAFETY: a mapping belongs to the process, not to the thread that made it.
#[cfg(unix)]
unsafe impl Send for Mapping {}

#[cfg(unix)]
impl Mapping {
    /// Maps the first `len` bytes of `file`; gives the file back when it is
    /// empty (a mapping cannot be empty) or the system refuses.
    fn new(file: File, len: usize) -> Result<Mapping, File> {
        use std::os::fd::AsRawFd;
        if len == 0 {
            return Err(file);
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
        match std::ptr::NonNull::new(start.cast::<u8>()) {
            Some(start) if start.as_ptr().cast() != libc::MAP_FAILED => {
                Ok(Mapping { start, len, file })
            }
            _ => Err(file),
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

#[cfg(any(target_os = "linux", target_os = "android"))]
impl Mapping {
    fn forget(&self, len: usize) {
        use std::os::fd::AsRawFd;
        // Whole pages only: the page holding byte `len` may still be read.
        let len = len.min(self.len) & !(page_size() - 1);
        let Ok(file_len) = libc::off_t::try_from(len) else {
            return;
        };
        if len == 0 {
            return;
        }
        // SAFETY: `start..start + len` lies in this mapping (checked above)
        // and starts on a page boundary (mappings do). MADV_DONTNEED on a
        // private mapping of a file that was never written through it only
        // unmaps the pages: a later read maps the file's bytes again, so the
        // slices `bytes` gave out keep their contents. The cache of a file
        // must be unmapped for `posix_fadvise` to drop it, and dropping a
        // file's clean cache changes nothing but the speed of a later read.
        // Both only hint; their failure changes nothing.
        unsafe {
            libc::madvise(self.start.as_ptr().cast(), len, libc::MADV_DONTNEED);
            libc::posix_fadvise(
                self.file.as_raw_fd(),
                0,
                file_len,
                libc::POSIX_FADV_DONTNEED,
            );
        }
    }
}

/// The size of a memory page.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn page_size() -> usize {
    // SAFETY: `sysconf` reads a system constant.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size)
        .ok()
        .filter(|size| size.is_power_of_two())
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
