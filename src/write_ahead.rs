//! Writing the start of an output on a second thread while the caller is
//! still working out the rest.
//!
//! Save-and-sort cannot know the order of any row before it has read every
//! key, but the rows at the start of the file that are already in order (a
//! day usually comes sorted, and scoring moves rows to the end) are likely
//! to stay there. The sort hands their bytes to a [`WriteAhead`] as it finds
//! them, so that the copy into the temporary file runs on the other core,
//! from bytes the scan has just brought into the cache, and afterwards keeps
//! what turned out right ([`crate::gather::GatherWriter::truncate`]).

use crate::error::Error;
use crate::gather::GatherWriter;
use std::ops::Range;
use std::sync::mpsc::{channel, Sender};
use std::thread::{Scope, ScopedJoinHandle};

/// How much has been handed to the thread: the first `rows` rows, which end
/// at byte `end` of the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Handed {
    pub rows: usize,
    pub end: usize,
}

/// A thread writing ranges of `data` to a [`GatherWriter`], in order.
pub(crate) struct WriteAhead<'scope, 'd> {
    /// `None` once the thread has stopped (it failed; `finish` says why).
    ranges: Option<Sender<Range<usize>>>,
    handed: Handed,
    thread: ScopedJoinHandle<'scope, Result<GatherWriter<'d>, Error>>,
}

impl<'scope, 'd: 'scope> WriteAhead<'scope, 'd> {
    /// Starts the thread; nothing is written until [`WriteAhead::extend`].
    pub fn start(
        scope: &'scope Scope<'scope, '_>,
        mut out: GatherWriter<'d>,
        data: &'d [u8],
    ) -> WriteAhead<'scope, 'd> {
        let (ranges, received) = channel::<Range<usize>>();
        let thread = scope.spawn(move || {
            for range in received {
                out.push(&data[range])?;
            }
            Ok(out)
        });
        WriteAhead {
            ranges: Some(ranges),
            handed: Handed { rows: 0, end: 0 },
            thread,
        }
    }

    /// Writes the data up to `to.end` (the first `to.rows` rows), after what
    /// was handed before.
    pub fn extend(&mut self, to: Handed) {
        if to.end <= self.handed.end {
            return;
        }
        let Some(ranges) = &self.ranges else {
            return;
        };
        if ranges.send(self.handed.end..to.end).is_ok() {
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
