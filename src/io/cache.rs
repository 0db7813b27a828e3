//! Dropping a file's pages from the page cache behind a pass that replaces it.
//!
//! Scoring and rules read `flow_scores.csv` once and rename a new version
//! over it. When the old version is freed at that rename, Linux first drops
//! its pages from the page cache, on the thread that closes the file, at the
//! very end of the pass, when nothing else can overlap it (BENCHMARKS.md,
//! "Figures behind the code"). Asking the kernel to drop the
//! pages already written out (`POSIX_FADV_DONTNEED`; the writing thread
//! unmaps them first, see [`crate::io::mapped`]) from a helper thread instead
//! spreads that work over the pass.
//!
//! Only passes that replace the file ask for it: a pass that ends without
//! replacing it (nothing matched, or an error) leaves a file whose next read
//! comes from the disk, which costs time, never data.

use crate::io::mapped::drop_cache;
use std::fs::File;
use std::sync::mpsc::{sync_channel, SyncSender};

/// Ranges the helper thread may lag behind before new ones are skipped
/// (a skipped range is simply dropped at the rename, as without this).
const RANGES_IN_FLIGHT: usize = 16;

/// Drops ranges of a file from the page cache on a helper thread, which
/// holds its own handle of the file until it has dropped every range it was
/// given. Dropping the dropper does not wait for it.
pub(crate) struct CacheDropper {
    ranges: SyncSender<(usize, usize)>,
}

impl CacheDropper {
    /// A dropper for `file`; `None` where the platform has no such advice
    /// or no thread can be started (the pass then works as without it).
    pub fn new(file: &File) -> Option<CacheDropper> {
        if !cfg!(target_os = "linux") {
            return None;
        }
        let file = file.try_clone().ok()?;
        let (ranges, received) = sync_channel::<(usize, usize)>(RANGES_IN_FLIGHT);
        std::thread::Builder::new()
            .name("flow-edge cache dropper".to_owned())
            .spawn(move || {
                for (offset, len) in received {
                    drop_cache(&file, offset..offset + len);
                }
            })
            .ok()?;
        Some(CacheDropper { ranges })
    }

    /// The bytes `offset..offset + len` are read and will not be read again.
    pub fn done_with(&self, offset: usize, len: usize) {
        // A busy helper is no reason to wait: the range is skipped.
        let _ = self.ranges.try_send((offset, len));
    }
}
