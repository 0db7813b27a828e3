//! The warm build cache: evcxr's build folder kept between kernel starts.
//!
//! evcxr compiles each `:dep` crate and every cell in its build folder (`EVCXR_TMPDIR`). By
//! default that is a fresh temporary folder per kernel, so every open of a notebook compiles
//! the library and its dependencies again (about 20 s at best). Keeping the folder lets cargo's
//! own fingerprints decide: an unchanged library is not rebuilt, a changed source tree is.
//!
//! Layout under the root (`$XDG_CACHE_HOME/flow-edge/evcxr` by default):
//!
//! ```text
//! .cargo/config.toml  the cargo profile of every build below (see `profile`)
//! slot-0.lock         a kernel holds an exclusive lock on it for its whole life
//! slot-0/             evcxr's build folder for that kernel (Cargo.toml, src/, target/)
//! slot-1.lock         ...
//! ```
//!
//! Why slots: evcxr rewrites its cell crate's `src/` and `Cargo.toml` in the build folder with
//! no lock of its own, so two kernels building in one folder would compile each other's
//! cells. A kernel takes the first slot it can lock; when all are busy it builds in a fresh
//! temporary folder, as before. The lock file lives beside the folder so clearing a slot
//! never removes the lock another process may be waiting on.

mod location;
mod profile;
mod size;
mod slots;

pub use location::{CacheError, Settings, ROOT_ENV};
pub use size::human_bytes;
pub use slots::{Cache, Slot};

use std::path::PathBuf;

/// evcxr's variable naming its build folder.
pub const EVCXR_TMPDIR: &str = "EVCXR_TMPDIR";

/// Points evcxr at a cache slot for this kernel's life: takes the first free slot, sets
/// `EVCXR_TMPDIR` to it and clears idle slots beyond the size bound in the background.
///
/// An `EVCXR_TMPDIR` already set wins (tests and users keep control of the folder); a cache
/// that cannot be used, or all slots busy, leave evcxr its fresh temporary folder. Either
/// way the reason goes to the kernel's log, and the kernel starts. Call before any thread
/// starts: it sets a process environment variable, which evcxr's subprocess inherits.
pub fn take_slot_for_kernel() -> Option<Slot> {
    match std::env::var_os(EVCXR_TMPDIR) {
        Some(dir) if !dir.is_empty() => {
            eprintln!(
                "flow-edge-kernel: {EVCXR_TMPDIR} is set: building in {}",
                PathBuf::from(dir).display()
            );
            return None;
        }
        // evcxr would take an empty value for a (relative, refused) folder name.
        Some(_) => std::env::remove_var(EVCXR_TMPDIR),
        None => {}
    }
    let cache = match Settings::from_env() {
        Ok(Some(settings)) => Cache::new(settings),
        Ok(None) => {
            eprintln!("flow-edge-kernel: build cache off: building in a fresh temporary folder");
            return None;
        }
        Err(error) => {
            eprintln!("flow-edge-kernel: build cache unusable ({error}): building in a fresh temporary folder");
            return None;
        }
    };
    let slot = match cache.acquire() {
        Ok(Some(slot)) => slot,
        Ok(None) => {
            eprintln!(
                "flow-edge-kernel: all {} build cache slots in {} are busy: building in a fresh temporary folder",
                cache.settings().slots,
                cache.settings().root.display()
            );
            return None;
        }
        Err(error) => {
            eprintln!("flow-edge-kernel: build cache unusable ({error}): building in a fresh temporary folder");
            return None;
        }
    };
    eprintln!(
        "flow-edge-kernel: building in build cache slot-{} ({})",
        slot.index(),
        slot.dir().display()
    );
    std::env::set_var(EVCXR_TMPDIR, slot.dir());
    std::thread::spawn(move || match cache.enforce_limit() {
        Ok(cleared) if cleared.is_empty() => {}
        Ok(cleared) => eprintln!(
            "flow-edge-kernel: build cache over {}: cleared idle slots {cleared:?}",
            human_bytes(cache.settings().limit_bytes)
        ),
        Err(error) => eprintln!("flow-edge-kernel: keeping the build cache's bound: {error}"),
    });
    Some(slot)
}
