//! A whole file's bytes without copying them: the file mapped read-only.
//!
//! Reading a 177 MB day with `fs::read` costs more than scanning it: the
//! kernel first has to fault in and zero 177 MB of fresh memory, then copy
//! the page cache into it, and frees it all again at the end. Reading it in
//! blocks still copies every byte out of the page cache. A read-only mapping
//! shows the page cache itself: no zeroing, no copy, nothing to free but the
//! page table. Every whole-day pass reads the day this way: the sort keeps it
//! all ([`FileBytes::open`]); the streaming passes (scoring, rules,
//! heuristics, restore) give back each block's pages once done with them
//! ([`FileBytes::open_streaming`], [`FileBytes::forget`]), so they hold a few
//! blocks of the day at a time.
//!
//! # The trade-off: truncation while mapped
//!
//! If another process shrinks the file while it is mapped, touching the
//! pages past the new end raises `SIGBUS` and the process dies (a read would
//! have returned an error or short data instead). flow-edge never truncates a
//! day's flows: every writer takes the day's lock ([`crate::io::lock::DayLock`])
//! and either renames a finished temporary over them, which leaves a mapped
//! (old) file untouched, or changes single bytes in place, which it does only
//! under the flows' own lock held exclusive ([`crate::io::lock::own_flows`]):
//! every reader holds that lock shared for as long as it maps the file, and
//! the writer itself is done reading its own mapping before it writes. Only a
//! program outside flow-edge that rewrites `flow_scores.csv` in place during
//! a pass could cause the signal (the original notebook did, with
//! `shutil.copyfile`), and such a program would already corrupt a pass that
//! reads the file (it would read a torn mix of old and new bytes). Dying
//! there leaves every file whole: the pass's temporary is not renamed, and
//! the next writer removes it when it takes the lock.
//!
//! A private mapping is used so that even the kernel cannot let a write
//! through it reach the file; the mapping is never written. (A private
//! mapping does not copy the pages nobody wrote through it: a write to the
//! file shows through them, which is why readers need the lock above.)

use crate::error::Error;
use std::fs::File;
use std::ops::{Deref, Range};
use std::path::Path;

/// The bytes of a file, mapped read-only (or read, where mapping is not
/// possible: empty files, other systems, a refused mapping).
pub(crate) struct FileBytes {
    inner: Inner,
    /// The file, open for as long as its bytes are used (for advice about
    /// its page cache).
    file: File,
}

enum Inner {
    #[cfg(unix)]
    Mapped(Mapping),
    Read(Vec<u8>),
}

/// When the pages of a mapping are faulted in.
#[derive(Clone, Copy)]
enum Faulting {
    /// All at mapping time: one call instead of a fault every few pages.
    AllAtOnce,
    /// As they are read, with read-ahead for a pass from start to end.
    AsRead,
}

impl FileBytes {
    /// Maps (or reads) the whole of `path`, faulting every page in at once:
    /// for a pass that keeps the whole file (the sort).
    pub fn open(path: &Path) -> Result<FileBytes, Error> {
        FileBytes::open_with(path, Faulting::AllAtOnce)
    }

    /// Maps (or reads) the whole of `path` for one pass from start to end,
    /// which gives back what it is done with ([`FileBytes::forget`]).
    pub fn open_streaming(path: &Path) -> Result<FileBytes, Error> {
        FileBytes::open_with(path, Faulting::AsRead)
    }

    /// Like [`FileBytes::open_streaming`], for a file already open (`path` names it in
    /// errors): a reader that picked its version under the day's lock.
    pub fn streaming(file: File, path: &Path) -> Result<FileBytes, Error> {
        FileBytes::of_file(file, path, Faulting::AsRead)
    }

    /// The open file `file` read whole into memory, with `overlay` laid over it (see
    /// [`crate::io::patch`]): for the rare reader that must see bytes recovery has not
    /// written yet. A mapping cannot show them without writing into it.
    pub fn read_overlaid(
        file: File,
        path: &Path,
        overlay: &[(u64, u8)],
    ) -> Result<FileBytes, Error> {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut &file, &mut bytes)
            .map_err(|e| Error::io(path, "reading", e))?;
        crate::io::patch::lay_over(&mut bytes, 0, overlay);
        Ok(FileBytes {
            inner: Inner::Read(bytes),
            file,
        })
    }

    fn open_with(path: &Path, faulting: Faulting) -> Result<FileBytes, Error> {
        let file = File::open(path).map_err(|e| Error::io(path, "opening for reading", e))?;
        FileBytes::of_file(file, path, faulting)
    }

    fn of_file(file: File, path: &Path, faulting: Faulting) -> Result<FileBytes, Error> {
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
        std::io::Read::read_to_end(&mut &file, &mut bytes)
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
    /// memory (they stay in the page cache; reading them again maps the same
    /// bytes back). Keeps a streaming pass's resident memory to the blocks
    /// in flight instead of the whole file.
    pub fn forget(&self, range: Range<usize>) {
        #[cfg(unix)]
        if let Inner::Mapped(mapping) = &self.inner {
            mapping.forget(range);
        }
        #[cfg(not(unix))]
        let _ = range;
    }

    /// Like [`FileBytes::forget`] for the first `len` bytes, and lets the
    /// kernel drop its copy of them too (they may be read again, from disk).
    ///
    /// The sort replaces the file it maps, and the kernel frees all of a
    /// replaced file's cache when the last reference goes, after the rename:
    /// about 20 ms for a 177 MB day, on the critical path. Dropping the rows
    /// already written while the new file is flushed to disk takes that off
    /// it. Only pages wholly inside the range are dropped.
    pub fn forget_cached_prefix(&self, len: usize) {
        self.forget(0..len);
        drop_cache(&self.file, 0..len);
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

/// Advises the kernel that it may drop its cache of `range` of `file`
/// (pages still mapped somewhere stay). Advice only: a failure changes
/// nothing but the speed of a later read, so it is ignored.
pub(crate) fn drop_cache(file: &File, range: Range<usize>) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use std::os::fd::AsRawFd;
        let (Ok(offset), Ok(len)) = (
            libc::off_t::try_from(range.start),
            libc::off_t::try_from(range.end.saturating_sub(range.start)),
        ) else {
            return;
        };
        // SAFETY: posix_fadvise only reads its integer arguments; the
        // descriptor is open for as long as `file` lives, past the call.
        unsafe {
            libc::posix_fadvise(file.as_raw_fd(), offset, len, libc::POSIX_FADV_DONTNEED);
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = (file, range);
}

/// A read-only private mapping of a whole file, unmapped when dropped.
#[cfg(unix)]
struct Mapping {
    start: std::ptr::NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is only ever read (it is mapped read-only); the one
// call made through a shared reference besides reads, `madvise` in `forget`
// and `new`, is a system call that is safe to make from any thread at any
// time; unmapping needs `&mut self` (drop).
#[cfg(unix)]
unsafe impl Sync for Mapping {}
// SAFETY: a mapping belongs to the process, not to the thread that made it.
#[cfg(unix)]
unsafe impl Send for Mapping {}

#[cfg(unix)]
impl Mapping {
    /// Maps the first `len` bytes of `file`; `None` when the file is empty
    /// (a mapping cannot be empty) or the system refuses.
    fn new(file: &File, len: usize, faulting: Faulting) -> Option<Mapping> {
        use std::os::fd::AsRawFd;
        if len == 0 {
            return None;
        }
        let flags = match faulting {
            Faulting::AllAtOnce => libc::MAP_PRIVATE | populate(),
            Faulting::AsRead => libc::MAP_PRIVATE,
        };
        // SAFETY: a new mapping at an address the kernel picks, of a file
        // descriptor that is open for reading, read-only and private: it
        // cannot alias or change any memory Rust knows about. The result is
        // checked for MAP_FAILED before use.
        let start = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                flags,
                file.as_raw_fd(),
                0,
            )
        };
        if start == libc::MAP_FAILED {
            return None;
        }
        let mapping = Mapping {
            start: std::ptr::NonNull::new(start.cast::<u8>())?,
            len,
        };
        if let Faulting::AsRead = faulting {
            mapping.advise(0..len, libc::MADV_SEQUENTIAL);
        }
        Some(mapping)
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `start..start + len` is mapped readable for as long as
        // `self` lives (it is unmapped only in `drop`), and nothing writes
        // to it: the mapping is read-only and private, and flow-edge changes
        // a day's file in place only when no flow-edge pass is reading a
        // mapping of it (see the module docs, also for what a truncation by
        // another program does).
        unsafe { std::slice::from_raw_parts(self.start.as_ptr(), self.len) }
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
        // `len`) and starts on a page boundary (the mapping's start is one).
        // MADV_DONTNEED on a private mapping of a file that was never
        // written through it only unmaps the pages: a later read maps the
        // file's bytes again, so the slices `bytes` gave out keep their
        // contents. The other advice only hints at read-ahead.
        unsafe {
            libc::madvise(
                self.start.as_ptr().add(range.start).cast(),
                range.end - range.start,
                advice,
            );
        }
    }
}

/// The size of a memory page.
#[cfg(unix)]
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
