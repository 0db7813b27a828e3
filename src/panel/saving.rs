//! *Save*: the sort under the panel's lock, then the upload without it.
//!
//! The upload waits on the network, up to its deadline. Run inside the button's callback it
//! would hold the widgets' dispatcher (every later click would wait for it) and, under the
//! panel's lock, every other operation. So the button runs it on a thread of its own: Score,
//! Undo and the preview work meanwhile, a second Save is refused until it ends, and its
//! outcome is reported when it does. From code, [`save_and_wait`] runs it on the caller's
//! thread, still without the panel's lock.

use super::investigation::{PlannedUpload, SaveOutcome, UploadStep};
use super::{lock, Shared};
use crate::spot::upload::{UploadError, UploadReport};
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Where the panel's background upload stands.
#[derive(Debug, Clone)]
pub enum UploadStatus {
    /// No upload was started in the background from this panel.
    Idle,
    /// Sending since `started`; it ends within `deadline`.
    Running {
        /// When it started.
        started: Instant,
        /// How long it may take.
        deadline: Duration,
    },
    /// The last one ended so.
    Ended(Arc<Result<UploadReport, UploadError>>),
}

/// Why *Save* was refused: an upload from this panel is still running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveRefused {
    /// When the running upload started.
    pub started: Instant,
    /// How long it may take.
    pub deadline: Duration,
}

impl fmt::Display for SaveRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let left = self.deadline.saturating_sub(self.started.elapsed());
        write!(
            f,
            "Save refused: the feedback upload started {} s ago is still running (it ends within {} s); save again when it has ended",
            self.started.elapsed().as_secs(),
            left.as_secs().max(1)
        )
    }
}

/// The panel's upload slot: at most one background upload at a time.
#[derive(Debug)]
pub(super) struct Uploads {
    status: Mutex<UploadStatus>,
    changed: Condvar,
}

impl Uploads {
    pub(super) fn new() -> Arc<Uploads> {
        Arc::new(Uploads {
            status: Mutex::new(UploadStatus::Idle),
            changed: Condvar::new(),
        })
    }

    fn status_guard(&self) -> MutexGuard<'_, UploadStatus> {
        self.status.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Where the background upload stands now.
    pub(super) fn status(&self) -> UploadStatus {
        self.status_guard().clone()
    }

    /// Waits up to `timeout` for a running upload to end, and says where it stands then.
    pub(super) fn wait(&self, timeout: Duration) -> UploadStatus {
        let guard = self.status_guard();
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, timeout, |status| {
                matches!(status, UploadStatus::Running { .. })
            })
            .unwrap_or_else(PoisonError::into_inner);
        guard.clone()
    }

    /// Marks an upload as running, unless one is.
    fn claim(self: &Arc<Self>, deadline: Duration) -> Result<Claim, SaveRefused> {
        let mut status = self.status_guard();
        if let UploadStatus::Running { started, deadline } = *status {
            return Err(SaveRefused { started, deadline });
        }
        let running = UploadStatus::Running {
            started: Instant::now(),
            deadline,
        };
        let previous = std::mem::replace(&mut *status, running);
        Ok(Claim {
            uploads: Arc::clone(self),
            previous: Some(previous),
        })
    }

    fn set(&self, status: UploadStatus) {
        *self.status_guard() = status;
        self.changed.notify_all();
    }
}

/// The right to run the panel's one background upload. Dropped without [`Claim::end`] (the
/// upload was not started after all), it gives the slot back as it was.
struct Claim {
    uploads: Arc<Uploads>,
    previous: Option<UploadStatus>,
}

impl Claim {
    /// Records how the upload ended (`status`, an [`UploadStatus::Ended`]) and wakes those
    /// waiting for it.
    fn end(mut self, status: UploadStatus) {
        self.previous = None;
        self.uploads.set(status);
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            self.uploads.set(previous);
        }
    }
}

/// A *Save* whose sort is done, and whose upload (when there is one to send) has not started
/// yet: the caller shows the outcome first, so the upload's end is always shown after it.
pub(super) struct Saved {
    /// What the Save did so far; its upload is [`UploadStep::Started`] when one is pending.
    pub(super) outcome: SaveOutcome,
    pending: Option<(Claim, PlannedUpload)>,
}

impl Saved {
    /// Starts the pending upload on a thread of its own; `on_end` gets its end there, before
    /// the panel records it (so whoever waits for the end sees it shown). When the thread
    /// cannot be started, the outcome says so.
    pub(super) fn start(
        mut self,
        on_end: impl FnOnce(&UploadStatus) + Send + 'static,
    ) -> SaveOutcome {
        let Some((claim, plan)) = self.pending.take() else {
            return self.outcome;
        };
        let spawned = std::thread::Builder::new()
            .name("flow-edge upload".into())
            .spawn(move || {
                let result = catch_unwind(AssertUnwindSafe(|| plan.send())).unwrap_or_else(|_| {
                    Err(UploadError::Abandoned(
                        "the upload thread stopped unexpectedly".into(),
                    ))
                });
                let ended = UploadStatus::Ended(Arc::new(result));
                // A failure to show the end must not keep the slot running for ever.
                let _ = catch_unwind(AssertUnwindSafe(|| on_end(&ended)));
                claim.end(ended);
            });
        if let Err(error) = spawned {
            self.outcome.upload = UploadStep::Done(Err(UploadError::Abandoned(format!(
                "cannot start a thread for it: {error}"
            ))));
        }
        self.outcome
    }
}

/// Sorts like *Save* and prepares the upload, unless an upload from this panel is running.
/// A configuration problem is reported at once, in the outcome.
pub(super) fn begin(state: &Shared, uploads: &Arc<Uploads>) -> Result<Saved, SaveRefused> {
    let mut investigation = lock(state);
    let claim = uploads.claim(investigation.upload_deadline())?;
    let (sort, refresh) = investigation.sort_for_save();
    let plan = sort.is_ok().then(|| investigation.upload_plan());
    drop(investigation);
    let (upload, pending) = match plan {
        None => (UploadStep::NotTried, None),
        Some(Err(error)) => (UploadStep::Done(Err(error)), None),
        Some(Ok(plan)) => (
            UploadStep::Started {
                deadline: plan.deadline(),
            },
            Some((claim, plan)),
        ),
    };
    Ok(Saved {
        outcome: SaveOutcome {
            sort,
            refresh,
            upload,
        },
        pending,
    })
}

/// Sorts, then sends the feedback on this thread, within the upload's deadline. Uploads of the
/// same day never clash (each sends its own copy), so this does not wait for a background one.
pub(super) fn save_and_wait(state: &Shared) -> SaveOutcome {
    let (sort, refresh, plan) = {
        let mut investigation = lock(state);
        let (sort, refresh) = investigation.sort_for_save();
        let plan = sort.is_ok().then(|| investigation.upload_plan());
        (sort, refresh, plan)
    };
    let upload = match plan {
        None => UploadStep::NotTried,
        Some(plan) => UploadStep::Done(plan.and_then(|plan| plan.send())),
    };
    SaveOutcome {
        sort,
        refresh,
        upload,
    }
}
