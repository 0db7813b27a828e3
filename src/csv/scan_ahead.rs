//! Scanning the next blocks of a day on another core while the caller's
//! callback visits the rows of this one.
//!
//! A whole-day pass has two kinds of work per block: the structural scan
//! ([`crate::csv::scan`]), which only needs the bytes, and the visit of each row
//! (the caller's decision, the severity check, the feedback line), which
//! needs the scan's index. With the day mapped (see [`crate::io::mapped`]) the
//! scan can run ahead on a thread of its own, up to [`BLOCKS_AHEAD`] blocks,
//! and hand each block's index over. The caller's thread does everything
//! that decides or reports: it checks the text is UTF-8 (where the scan saw
//! a byte that is not ASCII; see [`crate::csv::scan::records_text`]), and from the first
//! block the scan finds suspect (an error somewhere in it, or the unfinished
//! last record) it reads on by itself with the exact splitter, so errors
//! name the same line and column as without the thread.

use crate::csv::scan::{scan_records, BlockIndex};
use crate::io::mapped::FileBytes;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

/// Blocks the thread may scan before the caller visits them.
const BLOCKS_AHEAD: usize = 2;

/// What the scanning thread hands over, in file order.
pub(crate) enum Ahead {
    /// Clean whole records: `len` bytes from `start`, indexed.
    Block {
        start: usize,
        len: usize,
        index: BlockIndex,
    },
    /// The rest of the file, from where the last block ended, is the
    /// caller's to read (nothing at the end of the file; a suspect block, or
    /// an unfinished last record).
    Rest,
}

/// The caller's end of a scanning thread.
pub(crate) struct ScanAhead {
    blocks: Receiver<Ahead>,
    spare: SyncSender<BlockIndex>,
}

impl ScanAhead {
    /// Starts scanning `bytes` from `start` (a record boundary) for records
    /// of `width` fields, `block` bytes at a time; `None` when no thread can
    /// be started (the caller then scans as it reads).
    pub fn start(
        bytes: Arc<FileBytes>,
        start: usize,
        width: usize,
        block: usize,
    ) -> Option<ScanAhead> {
        let (blocks, received) = sync_channel(BLOCKS_AHEAD);
        let (spare, spares) = sync_channel(BLOCKS_AHEAD + 2);
        std::thread::Builder::new()
            .name("flow-edge scan".to_owned())
            .spawn(move || scan_blocks(&bytes, start, width, block, &blocks, &spares))
            .ok()?;
        Some(ScanAhead {
            blocks: received,
            spare,
        })
    }

    /// The next block, or the rest; `None` if the thread stopped without
    /// saying (it panicked), which the caller reports as an error.
    pub fn next(&self) -> Option<Ahead> {
        self.blocks.recv().ok()
    }

    /// Gives a visited block's index back for reuse.
    pub fn give_back(&self, index: BlockIndex) {
        let _ = self.spare.try_send(index);
    }
}

/// The thread: scans block after block until the end, a suspect block, or
/// the caller hanging up (an error in a visit, or the pass dropped).
fn scan_blocks(
    bytes: &FileBytes,
    mut at: usize,
    width: usize,
    block: usize,
    blocks: &SyncSender<Ahead>,
    spares: &Receiver<BlockIndex>,
) {
    let len = bytes.len();
    let mut window = block;
    let mut index = None;
    while at < len {
        let end = (at + window).min(len);
        let scanned = index.get_or_insert_with(|| spares.try_recv().unwrap_or_default());
        let Some(whole) = scan_records(&bytes[at..end], width, scanned) else {
            break;
        };
        if whole == 0 {
            if end == len {
                // The unfinished last record.
                break;
            }
            // One record larger than the window: look further.
            window *= 2;
            continue;
        }
        let found = Ahead::Block {
            start: at,
            len: whole,
            index: index.take().unwrap_or_default(),
        };
        if blocks.send(found).is_err() {
            return;
        }
        at += whole;
        window = block;
    }
    let _ = blocks.send(Ahead::Rest);
}
