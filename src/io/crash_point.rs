//! Numbered crash points, for the crash tests of the in-place writes.
//!
//! Each step of an in-place change that leaves something on disk (a write, an fsync, a
//! removal) is followed by [`reached`]. Built with the `crash-points` feature, which only the
//! crate's own tests enable, a process started with `FLOW_EDGE_CRASH_AT=n` kills itself with
//! `SIGKILL` at the n-th point it reaches: exactly what a crash at that instant leaves, with no
//! destructor run and no buffer flushed. The tests kill a child at every point in turn and
//! check what the next open finds. Without the feature, [`reached`] is empty and inlined away.

/// Marks a crash point: a step of an in-place change has just been made.
#[cfg(not(feature = "crash-points"))]
#[inline(always)]
pub(crate) fn reached() {}

/// Marks a crash point: a step of an in-place change has just been made. Dies here when this
/// is the point `FLOW_EDGE_CRASH_AT` names.
#[cfg(feature = "crash-points")]
pub(crate) fn reached() {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static TARGET: OnceLock<Option<u64>> = OnceLock::new();
    static COUNT: AtomicU64 = AtomicU64::new(0);
    // The point to die at, 1 for the first.
    let target = TARGET.get_or_init(|| std::env::var("FLOW_EDGE_CRASH_AT").ok()?.parse().ok());
    let Some(target) = *target else {
        return;
    };
    if COUNT.fetch_add(1, Ordering::SeqCst) + 1 == target {
        // SAFETY: sends a signal to this process; nothing else is touched.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
}
