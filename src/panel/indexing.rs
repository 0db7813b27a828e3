//! The preview index, built after the panel shows.
//!
//! On a million rows the index takes a second or more to build (BENCHMARKS.md, "The panel's
//! part of opening"), longer than the rest of opening together, and the analyst needs it only
//! for the live preview and the counts of what was scored. So the panel is returned as soon
//! as the rules have run and the listboxes are filled; the index is built on a thread of its
//! own, *without* holding the panel, and put in place when done. The status line says so
//! meanwhile, and the preview says it comes after indexing.
//!
//! *Score* pressed meanwhile waits for the index (at most [`INDEX_WAIT`]), then scores from
//! it; past that it scores by reading the day. Why that is exact, and why waiting is
//! preferred: the panel's documentation, "The index after the panel".

use super::investigation::Investigation;
use super::{lock, Shared};
use crate::day::Day;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long *Score* waits for the index before it scores by reading the day.
pub(super) const INDEX_WAIT: Duration = Duration::from_secs(10);

/// Index builds the thread tries when the day keeps changing under it (by the panel's own
/// scorings meanwhile, or another process); after that the first use builds it.
const ATTEMPTS: usize = 3;

/// Whether the background build of the index has ended, for those who wait for it without
/// holding the panel.
#[derive(Debug)]
pub(super) struct IndexSignal {
    done: Mutex<bool>,
    changed: Condvar,
}

impl IndexSignal {
    /// A signal for a build that is running (`false`) or that there is none of (`true`).
    pub(super) fn new(done: bool) -> Arc<IndexSignal> {
        Arc::new(IndexSignal {
            done: Mutex::new(done),
            changed: Condvar::new(),
        })
    }

    /// True once no build is running.
    pub(super) fn is_done(&self) -> bool {
        *self.done.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits up to `timeout` for the build to end; true when it has.
    pub(super) fn wait(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut done = self.done.lock().unwrap_or_else(PoisonError::into_inner);
        while !*done {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            done = self
                .changed
                .wait_timeout(done, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    fn finish(&self) {
        *self.done.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.changed.notify_all();
    }
}

/// Starts building the index of `day` for `state` on a thread of its own. `hold` runs between
/// a build and putting it in place (a test hook: production passes nothing to do);
/// `on_ready` runs once the build has ended, with the panel not held, before the waiters are
/// woken. The state must say an
/// index is pending ([`Investigation::index_pending`]).
pub(super) fn start(
    state: &Shared,
    signal: &Arc<IndexSignal>,
    hold: impl FnOnce() + Send + 'static,
    on_ready: impl FnOnce() + Send + 'static,
) {
    let (state, signal) = (Arc::clone(state), Arc::clone(signal));
    let day = lock(&state).day().clone();
    let work: Box<dyn FnOnce() + Send> = Box::new(move || {
        build_and_install(&day, &state, hold);
        // Shown before the waiters go on, so they find the panel up to date.
        on_ready();
        signal.finish();
    });
    // Shared with the thread, so that the work is not lost if the thread cannot start.
    let work = Arc::new(Mutex::new(Some(work)));
    let run = |work: &Mutex<Option<Box<dyn FnOnce() + Send>>>| {
        let taken = work.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(work) = taken {
            work();
        }
    };
    let spawned = std::thread::Builder::new()
        .name("flow-edge panel index".into())
        .spawn({
            let work = Arc::clone(&work);
            move || run(&work)
        });
    if spawned.is_err() {
        // No thread: the index is built here, as the panel did before it had one.
        run(&work);
    }
}

/// Builds the index without holding the panel, then puts it in place if it still describes
/// the day; builds again (a few times at most) if the panel or another process changed the
/// day meanwhile.
fn build_and_install(day: &Day, state: &Shared, hold: impl FnOnce()) {
    let mut hold = Some(hold);
    for _ in 0..ATTEMPTS {
        let built = super::index::FlowIndex::build(day);
        if let Some(hold) = hold.take() {
            hold();
        }
        let mut investigation = lock(state);
        match built {
            Ok(index) => match index.is_current() {
                Ok(true) => return investigation.end_indexing(Some(index)),
                Ok(false) => continue,
                // A failure here is not lost: the first use tries again and shows the error.
                Err(_) => break,
            },
            Err(_) => break,
        }
    }
    lock(state).end_indexing(None);
}

impl Investigation {
    /// Whether to take the index from the background build: true while it runs and the
    /// panel has no index of its own.
    pub(super) fn waits_for_background_index(&self) -> bool {
        self.index_pending() && !self.has_index()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panel::{PanelOptions, UploadSettings};
    use crate::synthetic::{generate_bytes, DaySpec};
    use crate::{apply_rules, ApplyOptions, ConnectionPage, RuleSet, Selection};
    use std::path::Path;
    use std::sync::mpsc;

    /// A generated day in `dir`, and an identical copy in `dir/control` to score with the
    /// engine alone.
    fn day_and_control(dir: &Path, rows: usize) -> (Day, Day) {
        let bytes = generate_bytes(&DaySpec::new(rows, 11));
        let control = dir.join("control");
        std::fs::create_dir(&control).unwrap();
        std::fs::write(dir.join("flow_scores.csv"), &bytes).unwrap();
        std::fs::write(control.join("flow_scores.csv"), &bytes).unwrap();
        (Day::open(dir).unwrap(), Day::open(&control).unwrap())
    }

    fn live_options(dir: &Path) -> PanelOptions {
        PanelOptions {
            upload: UploadSettings {
                spot_conf: Some(dir.join("no-spot.conf")),
                ..UploadSettings::default()
            },
            interactive: true,
            ..PanelOptions::default()
        }
    }

    fn flows(day: &Day) -> Vec<u8> {
        std::fs::read(&day.paths().flow).unwrap()
    }

    #[test]
    fn the_panel_is_usable_before_the_index_and_score_is_exact_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let (day, control) = day_and_control(dir.path(), 3000);
        // The index is held back until the test lets it go.
        let (release, held) = mpsc::channel::<()>();
        let mut panel = day
            .open_panel(live_options(dir.path()), move || {
                let _ = held.recv();
            })
            .unwrap();
        panel.index_wait = Duration::ZERO;
        apply_rules(&control, &RuleSet::original(), ApplyOptions::default()).unwrap();

        // Usable: listboxes filled, the status says the index is being built.
        assert!(!panel.wait_for_index(Duration::ZERO));
        assert!(!panel.lists().src_ips.is_empty());
        let status = panel.status_text();
        assert!(status.contains("Indexing the day for previews"), "{status}");
        assert!(status.contains("Score works meanwhile"), "{status}");

        // Score before the index: rated exactly as the engine rates a copy.
        let quick = Selection::new().quick_ip(panel.lists().src_ips[0].clone());
        let expected = control.score(&quick, 1).unwrap();
        assert!(expected.scored > 0);
        let report = panel.score(&quick, 1).unwrap();
        assert_eq!(report.scored, expected.scored);
        assert_eq!(flows(&day), flows(&control));
        assert!(!panel.wait_for_index(Duration::ZERO), "still held");

        // The index built before that scoring is out of date: built again, then in place.
        release.send(()).unwrap();
        assert!(panel.wait_for_index(Duration::from_secs(60)));
        let status = panel.status_text();
        assert!(!status.contains("Indexing"), "{status}");
        let preview = panel.preview(&quick).unwrap();
        let engine = ConnectionPage::of_selection(&day, &quick, 0, 5).unwrap();
        assert_eq!(preview.matched, engine.matched);
        assert_eq!(preview.already_scored, engine.matched);

        // Scoring with the index writes the same bytes as the engine; undo puts them back.
        let dport = Selection::new().dport(panel.lists().dports[0].clone());
        let expected = control.score(&dport, 2).unwrap();
        let before_undo = flows(&day);
        assert_eq!(panel.score(&dport, 2).unwrap().scored, expected.scored);
        assert_eq!(flows(&day), flows(&control));
        panel.undo().unwrap();
        assert_eq!(flows(&day), before_undo);
        assert_eq!(panel.preview(&dport).unwrap().matched, expected.scored);
    }

    #[test]
    fn score_right_after_open_waits_for_the_index_and_scores_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let (day, control) = day_and_control(dir.path(), 20_000);
        let panel = day.panel_with(live_options(dir.path())).unwrap();
        apply_rules(&control, &RuleSet::original(), ApplyOptions::default()).unwrap();
        let selection = Selection::new().src_ip(panel.lists().src_ips[1].clone());
        let expected = control.score(&selection, 3).unwrap();
        assert_eq!(panel.score(&selection, 3).unwrap().scored, expected.scored);
        assert_eq!(flows(&day), flows(&control));
        assert!(panel.wait_for_index(Duration::from_secs(60)));
        assert!(!panel.status_text().contains("Indexing"));
    }

    #[test]
    fn a_signal_wakes_its_waiters_and_times_out_without_a_build_ending() {
        let signal = IndexSignal::new(false);
        assert!(!signal.wait(Duration::from_millis(1)));
        let waiter = {
            let signal = Arc::clone(&signal);
            std::thread::spawn(move || signal.wait(Duration::from_secs(60)))
        };
        signal.finish();
        assert!(waiter.join().unwrap());
        assert!(signal.is_done());
    }
}
