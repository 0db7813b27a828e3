//! The cargo profile of the builds in the cache: what a cold `:dep flow_edge` need not do.
//!
//! evcxr compiles every crate a notebook `:dep`s at `opt-level = 2` (its generated
//! `Cargo.toml`, `[profile.dev]`). For the library's own code that is right: its passes go over
//! a million rows. But a fifth of a cold `:dep flow_edge` went to optimising crates no pass runs
//! through: the widgets, their message format, `serde_json` under them and the plain-text
//! tables. They carry a few kilobytes of widget state per click, so optimising them saves
//! nothing an analyst can see (a Score click took as long in the browser benchmark).
//!
//! One setting for every crate: no ThinLTO inside a crate. evcxr's `lto = false` still has rustc
//! join a crate's sixteen codegen units by ThinLTO, a fifth of the library's own compile;
//! `lto = "off"` compiles them apart. The notebook's panel and heuristics cells took no longer
//! for it, and a cell, one small crate, compiles a little faster.
//!
//! evcxr rewrites its build folder's own `Cargo.toml` and `.cargo/config.toml` on every cell,
//! so the settings go into a cargo configuration file in the cache's root, which cargo reads
//! for every build below it (`<root>/.cargo/config.toml`). A configuration's profile takes
//! precedence over evcxr's `[profile.dev]`, so it names only what it changes: `lto`, and the
//! listed packages' `opt-level`; `:opt` keeps its meaning for the library and the cells. A
//! kernel building outside the cache (the cache off, all slots busy, `EVCXR_TMPDIR` set)
//! builds as evcxr does by default. Measured in BENCHMARKS.md, "A cold open, a third shorter".

use super::location::CacheError;
use crate::atomic_file::write_atomically;
use std::path::{Path, PathBuf};

/// The crates compiled without optimisation, by package name: the widgets and everything they
/// alone bring.
pub const UNOPTIMISED_PACKAGES: &[&str] = &[
    "flow-edge-widgets",
    "flow-edge-bridge-protocol",
    "serde_json",
    "serde_core",
    "itoa",
    "zmij",
    "comfy-table",
    "unicode-segmentation",
    "unicode-width",
];

/// The configuration file's path under the cache root.
pub fn config_path(root: &Path) -> PathBuf {
    root.join(".cargo").join("config.toml")
}

/// The configuration file's text.
pub fn config_text() -> String {
    let mut text = String::from(
        "# Written by flow-edge-kernel at each kernel start; edits are replaced.\n\
         # Shortens a cold `:dep flow_edge` (see the kernel's build_cache/profile.rs).\n",
    );
    for package in UNOPTIMISED_PACKAGES {
        text.push_str(&format!(
            "\n[profile.dev.package.{package}]\nopt-level = 0\n"
        ));
    }
    text.push_str(
        "\n# No ThinLTO between a crate's own codegen units (evcxr's `lto = false` keeps it).\n\
         [profile.dev]\nlto = \"off\"\n",
    );
    text
}

/// Makes the cache root's configuration file say what `config_text` says, rewriting it only
/// when it differs (so kernels starting together do not keep replacing it).
pub fn ensure_config(root: &Path) -> Result<(), CacheError> {
    let path = config_path(root);
    let wanted = config_text();
    if std::fs::read_to_string(&path).is_ok_and(|text| text == wanted) {
        return Ok(());
    }
    let folder = root.join(".cargo");
    std::fs::create_dir_all(&folder).map_err(CacheError::io(&folder))?;
    write_atomically(&path, wanted.as_bytes()).map_err(CacheError::io(&path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// A package `name` with one function, depending on the packages in `deps` by path.
    fn package(dir: &Path, name: &str, deps: &[&str]) {
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let mut manifest = format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n"
        );
        for dep in deps {
            manifest.push_str(&format!("{dep} = {{ path = \"../{dep}\" }}\n"));
        }
        std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        std::fs::write(dir.join("src/lib.rs"), "pub fn one() -> u32 { 1 }\n").unwrap();
    }

    /// The rustc command line `cargo build -v` printed for `crate_name`.
    fn rustc_line<'a>(verbose: &'a str, crate_name: &str) -> &'a str {
        verbose
            .lines()
            .find(|line| line.contains(&format!("--crate-name {crate_name} ")))
            .unwrap_or_else(|| panic!("no rustc line for {crate_name} in:\n{verbose}"))
    }

    /// The optimisation level cargo asked rustc for when compiling `crate_name`, from `cargo
    /// build -v` (cargo passes no `-C opt-level` for 0, rustc's default).
    fn opt_level(verbose: &str, crate_name: &str) -> String {
        let line = rustc_line(verbose, crate_name);
        match line.find("opt-level=") {
            Some(at) => line[at + "opt-level=".len()..][..1].to_owned(),
            None => "0".to_owned(),
        }
    }

    #[test]
    fn a_build_below_the_root_compiles_the_widgets_unoptimised_the_rest_as_evcxr_asks_and_no_crate_with_thin_lto(
    ) {
        let root = tempfile::tempdir().unwrap();
        ensure_config(root.path()).unwrap();
        // Stand-ins named like the real packages, and a cell crate with evcxr's profile.
        let slot = root.path().join("slot-0");
        package(&slot.join("flow-edge-widgets"), "flow-edge-widgets", &[]);
        package(&slot.join("flow-edge"), "flow-edge", &["flow-edge-widgets"]);
        package(&slot.join("ctx"), "ctx", &["flow-edge"]);
        let manifest = slot.join("ctx/Cargo.toml");
        let mut text = std::fs::read_to_string(&manifest).unwrap();
        text.push_str("\n[profile.dev]\nopt-level = 2\nlto = false\ncodegen-units = 16\n");
        std::fs::write(&manifest, text).unwrap();

        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let output = Command::new(cargo)
            .args(["build", "-v", "--offline"])
            .current_dir(slot.join("ctx"))
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUSTFLAGS")
            .output()
            .unwrap();
        let verbose = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{verbose}");
        assert_eq!(opt_level(&verbose, "flow_edge_widgets"), "0");
        assert_eq!(opt_level(&verbose, "flow_edge"), "2");
        assert_eq!(opt_level(&verbose, "ctx"), "2");
        for crate_name in ["flow_edge", "ctx"] {
            assert!(
                rustc_line(&verbose, crate_name).contains("-C lto=off"),
                "{crate_name} is compiled without ThinLTO:\n{verbose}"
            );
        }
    }

    #[test]
    fn an_edited_file_is_put_back_and_a_current_one_left_untouched() {
        let root = tempfile::tempdir().unwrap();
        ensure_config(root.path()).unwrap();
        let path = config_path(root.path());
        std::fs::write(&path, "[profile.dev]\nopt-level = 0\n").unwrap();
        ensure_config(root.path()).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), config_text());

        let before = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        ensure_config(root.path()).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().modified().unwrap(),
            before
        );
    }
}
