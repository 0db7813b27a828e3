//! How much the kernel takes from a library connection, and how long it waits on one.
//!
//! The library is the user's own code in evcxr's subprocess, so these limits guard against a
//! buggy peer, not a hostile one: a line that never ends must not eat the kernel's memory, and
//! a peer that stops reading must not stall the shell.

use std::str::FromStr;
use std::time::Duration;

/// Overrides the longest line accepted from a library, in bytes.
pub(crate) const MAX_LINE_ENV: &str = "FLOW_EDGE_BRIDGE_MAX_LINE_BYTES";
/// Overrides how long a write to a library may take, in seconds.
pub(crate) const WRITE_TIMEOUT_ENV: &str = "FLOW_EDGE_BRIDGE_WRITE_TIMEOUT_SECS";

/// A widget's state is rarely above a few MiB; 64 MiB leaves room for large `Output` contents.
const DEFAULT_MAX_LINE_BYTES: usize = 64 << 20;
/// A library reads on a thread of its own, so a healthy one never lets a write wait this long.
const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// The bridge's limits, read once from the environment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_line_bytes: usize,
    pub(crate) write_timeout: Duration,
}

impl Limits {
    pub(crate) fn from_env() -> Limits {
        Limits {
            max_line_bytes: setting(MAX_LINE_ENV, |bytes: &usize| *bytes > 0)
                .unwrap_or(DEFAULT_MAX_LINE_BYTES),
            write_timeout: setting(WRITE_TIMEOUT_ENV, |secs: &f64| {
                secs.is_finite() && *secs > 0.0
            })
            .map_or(DEFAULT_WRITE_TIMEOUT, Duration::from_secs_f64),
        }
    }
}

/// The variable `name` if it parses and is `usable`; a set but unusable value is said on
/// stderr, and the default applies.
fn setting<T: FromStr>(name: &str, usable: impl Fn(&T) -> bool) -> Option<T> {
    let text = std::env::var(name).ok()?;
    let value = text.trim().parse::<T>().ok().filter(|value| usable(value));
    if value.is_none() {
        eprintln!("flow-edge-kernel: {name}={text:?} is not usable here; using the default");
    }
    value
}
