//! `flow-edge-kernel install`: writes the kernelspec so Jupyter can start this kernel.
//!
//! The template is the workspace's `kernel.json`, embedded at build time so an installed
//! binary needs no source tree. Installing fills in the binary's absolute path and the
//! workspace root (`FLOW_EDGE_HOME`, where bare `:dep flow_edge_widgets` lines resolve).

use crate::atomic_file::write_atomically;
use serde_json::Value;
use std::fmt;
use std::path::{Path, PathBuf};

/// The kernelspec template.
const TEMPLATE: &str = include_str!("../../../kernel.json");
/// Directory name of the kernelspec, i.e. the kernel name notebooks refer to.
pub const KERNEL_NAME: &str = "flow-edge";
/// Placeholder in the template's argv for this binary.
const BINARY_PLACEHOLDER: &str = "@FLOW_EDGE_KERNEL@";
/// Placeholder in the template's env for the workspace root.
const HOME_PLACEHOLDER: &str = "@FLOW_EDGE_HOME@";

/// Where to install.
#[derive(Debug, PartialEq, Eq)]
pub enum Destination {
    /// The user's Jupyter data directory.
    User,
    /// `<prefix>/share/jupyter`, e.g. a virtualenv.
    Prefix(PathBuf),
}

#[derive(Debug)]
pub enum InstallError {
    Template(String),
    NoDataDir(String),
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
}

impl fmt::Display for InstallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstallError::Template(reason) => write!(f, "kernel.json template: {reason}"),
            InstallError::NoDataDir(reason) => {
                write!(f, "cannot find the user's Jupyter data directory: {reason}")
            }
            InstallError::Write { path, error } => {
                write!(f, "cannot write {}: {error}", path.display())
            }
        }
    }
}

impl std::error::Error for InstallError {}

/// The kernelspec directory for `destination`.
pub fn kernel_dir(destination: &Destination) -> Result<PathBuf, InstallError> {
    let data_dir = match destination {
        Destination::Prefix(prefix) => prefix.join("share").join("jupyter"),
        Destination::User => user_data_dir()?,
    };
    Ok(data_dir.join("kernels").join(KERNEL_NAME))
}

/// The user's Jupyter data directory, where jupyter_core looks: `JUPYTER_DATA_DIR` if set,
/// else `~/Library/Jupyter` on macOS and `$XDG_DATA_HOME/jupyter` (by default
/// `~/.local/share/jupyter`) elsewhere.
fn user_data_dir() -> Result<PathBuf, InstallError> {
    let set = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    if let Some(dir) = set("JUPYTER_DATA_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let home = set("HOME")
        .map(PathBuf::from)
        .ok_or_else(|| InstallError::NoDataDir(String::from("HOME is not set")))?;
    if cfg!(target_os = "macos") {
        return Ok(home.join("Library").join("Jupyter"));
    }
    let data_home = set("XDG_DATA_HOME").map_or_else(|| home.join(".local/share"), PathBuf::from);
    Ok(data_home.join("jupyter"))
}

/// The kernel.json text for a kernel at `binary` serving the workspace at `home`.
pub fn kernelspec(binary: &Path, home: &Path) -> Result<String, InstallError> {
    let mut spec: Value = serde_json::from_str(TEMPLATE)
        .map_err(|error| InstallError::Template(error.to_string()))?;
    let binary = binary.to_string_lossy().into_owned();
    let home = home.to_string_lossy().into_owned();
    fill(&mut spec, &binary, &home);
    serde_json::to_string_pretty(&spec).map_err(|error| InstallError::Template(error.to_string()))
}

/// Replaces the placeholders wherever a string is exactly one of them.
fn fill(value: &mut Value, binary: &str, home: &str) {
    match value {
        Value::String(text) if text == BINARY_PLACEHOLDER => *text = binary.to_owned(),
        Value::String(text) if text == HOME_PLACEHOLDER => *text = home.to_owned(),
        Value::Array(items) => items.iter_mut().for_each(|item| fill(item, binary, home)),
        Value::Object(fields) => fields
            .values_mut()
            .for_each(|item| fill(item, binary, home)),
        _ => {}
    }
}

/// Writes the kernelspec; returns the directory written.
pub fn install(
    destination: &Destination,
    binary: &Path,
    home: &Path,
) -> Result<PathBuf, InstallError> {
    let dir = kernel_dir(destination)?;
    let spec = kernelspec(binary, home)?;
    std::fs::create_dir_all(&dir).map_err(|error| InstallError::Write {
        path: dir.clone(),
        error,
    })?;
    let target = dir.join("kernel.json");
    write_atomically(&target, spec.as_bytes()).map_err(|error| InstallError::Write {
        path: target.clone(),
        error,
    })?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernelspec_names_this_binary_and_the_workspace() {
        let spec = kernelspec(
            Path::new("/opt/bin/flow-edge-kernel"),
            Path::new("/src/flow \"edge\""),
        )
        .unwrap();
        let spec: Value = serde_json::from_str(&spec).unwrap();
        assert_eq!(
            spec["argv"],
            serde_json::json!(["/opt/bin/flow-edge-kernel", "run", "{connection_file}"])
        );
        assert_eq!(spec["display_name"], "Rust (flow-edge)");
        assert_eq!(spec["language"], "rust");
        assert_eq!(spec["interrupt_mode"], "message");
        assert_eq!(spec["env"]["FLOW_EDGE_HOME"], "/src/flow \"edge\"");
    }

    #[test]
    fn installing_into_a_prefix_writes_share_jupyter_kernels_flow_edge() {
        let prefix = std::env::temp_dir().join(format!("flow-edge-install-{}", std::process::id()));
        let dir = install(
            &Destination::Prefix(prefix.clone()),
            Path::new("/bin/k"),
            Path::new("/w"),
        )
        .unwrap();
        assert_eq!(dir, prefix.join("share/jupyter/kernels/flow-edge"));
        let written: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("kernel.json")).unwrap())
                .unwrap();
        std::fs::remove_dir_all(&prefix).unwrap();
        assert_eq!(written["argv"][0], "/bin/k");
    }
}
