//! Writing the start of an output on a second thread while the caller is
//! still working out the rest.
//!
//! Save-and-sort cannot know the order of any row before it has read every
//! key, but the unscored rows that are already in order from the start of
//! the file (a day comes sorted, and a saved day keeps its unscored rows in
//! order) are likely to open the output in that order. The sort hands their
//! bytes to a [`WriteAhead`] as it finds them, so that the copy into the
//! temporary file runs on the other core, from bytes the scan has just
//! brought into the cache, and afterwards keeps what turned out right
//! ([`crate::io::gather::GatherWriter::truncate`]).

use crate::error::Error;
use crate::io::gather::GatherWriter;
use std::ops::Range;
use std::sync::mpsc::{channel, Sender};
use std::thread::{Scope, ScopedJoinHandle};

/// How much has been handed to the thread: the first `rows` unscored rows
/// in order, which with the header make the first `end` bytes of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Handed {
    pub rows: usize,
    pub end: usize,
}

/// A thread writing ranges of `data` to a [`GatherWriter`], in order.
pub(crate) struct WriteAhead<'scope, 'd> {
    /// `None` once the thread has stopped (it failed; `finish` says why).
    ranges: Option<Sender<Vec<Range<usize>>>>,
    handed: Handed,
    thread: ScopedJoinHandle<'scope, Result<GatherWriter<'d>, Error>>,
}

impl<'scope, 'd: 'scope> WriteAhead<'scope, 'd> {
    /// Starts the thread; nothing is written until [`WriteAhead::hand`].
    pub fn start(
        scope: &'scope Scope<'scope, '_>,
        mut out: GatherWriter<'d>,
        data: &'d [u8],
    ) -> WriteAhead<'scope, 'd> {
        let (ranges, received) = channel::<Vec<Range<usize>>>();
        let thread = scope.spawn(move || {
            for batch in received {
                for range in batch {
                    out.push(&data[range])?;
                }
            }
            Ok(out)
        });
        WriteAhead {
            ranges: Some(ranges),
            handed: Handed { rows: 0, end: 0 },
            thread,
        }
    }

    /// Writes `ranges` of the data after what was handed before; with them,
    /// what is handed comes `to`.
    pub fn hand(&mut self, ranges: Vec<Range<usize>>, to: Handed) {
        let Some(sender) = &self.ranges else {
            return;
        };
        if sender.send(ranges).is_ok() {
            self.handed = to;
        } else {
            self.ranges = None;
        }
    }

    /// Waits for the thread; returns the writer (with everything handed
    /// written or batched) and what was handed.
    pub fn finish(self) -> Result<(GatherWriter<'d>, Handed), Error> {
        drop(self.ranges);
        let out = self
            .thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        Ok((out, self.handed))
    }
}
