//! Lets every compiled cell find Rust's shared standard library, wherever the build folder is.
//!
//! evcxr links each cell as a shared library against `libstd-*.so` and relies on the
//! `RUNPATH` rustc writes into it. rustc writes that path relative to the folder it builds in
//! (`target/<triple>/debug/deps`), but evcxr loads the copy cargo places one folder up, so the
//! path climbs one `..` too many. Under `/tmp` the extra step is absorbed at `/` and nobody
//! notices; under the user's home, where both rustup and the build cache live, it points to a
//! folder that does not exist, and evcxr's first cell fails with "dlopen failed" before any
//! notebook cell runs. The dynamic loader reads `LD_LIBRARY_PATH` before `RUNPATH`, so
//! naming the toolchain's library folder there makes the location of the build folder
//! irrelevant.

use std::path::PathBuf;
use std::process::Command;

/// The variable the dynamic loader searches before a library's `RUNPATH`.
const LOADER_PATH: &str = "LD_LIBRARY_PATH";

/// Puts the toolchain's target library folder first in `LD_LIBRARY_PATH`, which evcxr's
/// subprocess inherits. Call before any thread starts (it sets a process environment
/// variable). If `rustc` cannot say where the folder is, nothing changes and the reason goes
/// to the log: evcxr then reports its own, more specific error when it starts.
pub fn expose_to_cells() {
    let folder = match target_library_folder() {
        Ok(folder) => folder,
        Err(reason) => {
            eprintln!("flow-edge-kernel: cannot find Rust's standard library folder: {reason}");
            return;
        }
    };
    let existing = std::env::var_os(LOADER_PATH).unwrap_or_default();
    let mut folders = vec![folder.clone()];
    folders.extend(
        std::env::split_paths(&existing)
            .filter(|path| !path.as_os_str().is_empty() && *path != folder),
    );
    match std::env::join_paths(folders) {
        Ok(joined) => std::env::set_var(LOADER_PATH, joined),
        Err(error) => eprintln!(
            "flow-edge-kernel: cannot add {} to {LOADER_PATH}: {error}",
            folder.display()
        ),
    }
}

/// `rustc --print target-libdir`: where the host's `libstd-*.so` is, for the same toolchain
/// evcxr resolves (both go through rustup from the kernel's working folder).
fn target_library_folder() -> Result<PathBuf, String> {
    let output = Command::new("rustc")
        .args(["--print", "target-libdir"])
        .output()
        .map_err(|error| format!("running rustc: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "rustc --print target-libdir: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let folder = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    if folder.is_dir() {
        Ok(folder)
    } else {
        Err(format!("{} is not a folder", folder.display()))
    }
}
