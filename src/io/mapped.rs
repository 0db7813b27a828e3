//! A whole file's bytes without copying them: the file mapped read-only.
//!
//! Reading a whole day with `fs::read` costs more than scanning it (see
//! BENCHMARKS.md, "Figures behind the code"): the kernel first has to fault
//! in and zero as much fresh memory as the file holds, then copy the page
//! cache into it, and frees it all again at the end. Reading it in
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
//! file shows through them, which is why readers need the lock above.) The
//! mapping itself is `memmap2`'s; the advice about its pages (read-ahead,
//! giving pages back) goes through it too.

use crate::error::Error;
use std::fs::File;
use std::ops::{Deref, Range};
use std::path::Path;

/// The bytes of a file, mapped read-only (or read, where mapping is not
/// possible: empty files, a refused mapping).
pub(crate) struct FileBytes {
    inner: Inner,
    /// The file, open for as long as its bytes are used (for advice about
    /// its page cache).
    file: File,
}

enum Inner {
    Mapped(memmap2::Mmap),
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
        if let Some(mapping) = map(&file, len, faulting) {
            return Ok(FileBytes {
                inner: Inner::Mapped(mapping),
                file,
            });
        }
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
            forget_pages(mapping, range);
        }
        #[cfg(not(unix))]
        let _ = range;
    }

    /// Like [`FileBytes::forget`] for the first `len` bytes, and lets the
    /// kernel drop its copy of them too (they may be read again, from disk).
    ///
    /// The sort replaces the file it maps, and the kernel frees all of a
    /// replaced file's cache when the last reference goes, after the rename,
    /// on the critical path (BENCHMARKS.md, "Figures behind the code").
    /// Dropping the rows already written while the new file is flushed to
    /// disk takes that off it. Only pages wholly inside the range are dropped.
    pub fn forget_cached_prefix(&self, len: usize) {
        self.forget(0..len);
        drop_cache(&self.file, 0..len);
    }
}

impl Deref for FileBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.inner {
            Inner::Mapped(mapping) => mapping,
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

/// A read-only private mapping of the first `len` bytes of `file`; `None`
/// when the file is empty (a mapping cannot be empty), too large for the
/// address space, or the system refuses (the caller then reads the file).
///
/// Private, so that even the kernel cannot let a write through it reach the
/// file; it is never written (see the module docs for why it is mapped at
/// all, and what a truncation by another program does).
fn map(file: &File, len: u64, faulting: Faulting) -> Option<memmap2::Mmap> {
    let len = usize::try_from(len).ok().filter(|&len| len > 0)?;
    let mut options = memmap2::MmapOptions::new();
    options.len(len);
    if let Faulting::AllAtOnce = faulting {
        options.populate();
    }
    // SAFETY: the mapping is read-only and private, so nothing Rust knows
    // about can write through it; what the unsafe contract leaves to the
    // caller is that no one changes the file while it is mapped: flow-edge
    // changes a day's file in place only when no flow-edge pass is reading a
    // mapping of it (under the flows' own lock, see the module docs, which
    // also say what another program's truncation would do).
    let mapping = unsafe { options.map_copy_read_only(file) }.ok()?;
    #[cfg(unix)]
    if let Faulting::AsRead = faulting {
        // Advice only: a refusal changes nothing but the read-ahead.
        let _ = mapping.advise(memmap2::Advice::Sequential);
    }
    Some(mapping)
}

/// Drops the whole pages inside `range` from `mapping`'s page table.
#[cfg(unix)]
fn forget_pages(mapping: &memmap2::Mmap, range: Range<usize>) {
    let page = page_size();
    let start = range.start.div_ceil(page) * page;
    let end = range.end.min(mapping.len()) / page * page;
    if start < end {
        // SAFETY: MADV_DONTNEED on a private mapping of a file that was
        // never written through it only unmaps the pages: a later read maps
        // the file's bytes again, so the slices the mapping gave out keep
        // their contents. The range lies inside the mapping and starts on a
        // page boundary (the mapping's start is one). Advice only: a refusal
        // costs memory, never data, so it is ignored.
        let _ = unsafe {
            mapping.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start)
        };
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
