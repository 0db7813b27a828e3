//! Kernels started ahead: a warm evcxr context waits for the next notebook and adopts it.
//!
//! Why: with a warm build cache a notebook still waits about 7 s for its panel, and most of it
//! is not the notebook's work: evcxr's start (2.5 s: rust-analyzer loads the sysroot, a first
//! cell compiles), `:dep flow_edge` (2 s: cargo checks the library, rust-analyzer loads its
//! crate graph) and the first `let` (2 s: rust-analyzer analyses std and the library). None of
//! it depends on which notebook opens, so a process of the same user can do it ahead.
//!
//! How, in one life:
//!
//! 1. A kernel that Jupyter starts (`run`) and that finds no standby serves its notebook
//!    itself, as before, and spawns `flow-edge-kernel standby` in a process group of its own
//!    (Jupyter kills a kernel's group on shutdown), with the environment it was started with.
//! 2. The standby holds a per-configuration lock (one standby at a time), waits
//!    `FLOW_EDGE_STANDBY_DELAY_SECS` so the notebook being opened keeps the CPU, takes a build
//!    cache slot, starts evcxr and runs the shipped notebooks' `:dep flow_edge` and a first
//!    `let` of a library type. Then it listens on its rendezvous socket.
//! 3. The next `run` connects, checks that the peer is the same user, and hands over its
//!    connection file and working folder ([`handoff`]). The standby checks that its
//!    configuration and the library's sources are the ones it warmed, answers, changes into
//!    the notebook's folder (its own and, by a first hidden cell, evcxr's subprocess's), binds
//!    the Jupyter sockets and serves the notebook. The `run` process stays as Jupyter's kernel
//!    process: it forwards SIGINT and SIGTERM, and ends when the served kernel ends. Their
//!    connection is a lifeline: if Jupyter kills the `run` process, the served kernel sees
//!    the connection close and shuts down. The `run` process then spawns the next standby.
//!
//! A standby is only ever adopted by a kernel of the same user, the same binary (path, size,
//! modification time) and the same environment except Jupyter's per-kernel `JPY_*`
//! variables ([`fingerprint`]); the socket sits in a folder only the user can enter
//! ([`rendezvous`]). What a cell can tell: the process environment is the one the standby
//! started with (the same but for `JPY_*`), and `flow_edge` is already a dependency before
//! the notebook's `:dep` line.
//!
//! A standby that nobody adopts exits after `FLOW_EDGE_STANDBY_IDLE_SECS`.
//! `FLOW_EDGE_STANDBY=off` turns all of it off.

mod ahead;
mod fingerprint;
mod handoff;
mod launcher;
mod rendezvous;
mod settings;
mod status;

pub use ahead::run as run_standby;
pub use launcher::{spawn_standby, try_adopt};
pub use rendezvous::Rendezvous;
pub use settings::StandbySettings;
pub use status::show as show_status;

use std::ffi::OsString;

/// The settings and the rendezvous of the configuration `environment` describes (this
/// binary, that environment); `Ok(None)` when standbys are off. An error: a setting is not
/// valid, or the folder cannot be used safely.
pub fn rendezvous_for(
    environment: &[(OsString, OsString)],
) -> anyhow::Result<Option<(StandbySettings, Rendezvous)>> {
    let Some(settings) = StandbySettings::from_env()? else {
        return Ok(None);
    };
    let rendezvous = Rendezvous::open(&settings, &fingerprint::configuration(environment))?;
    Ok(Some((settings, rendezvous)))
}
