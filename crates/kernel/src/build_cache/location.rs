//! Where the cache lives and how large it may grow, from the environment.

use std::fmt;
use std::path::PathBuf;

/// Names the cache root; `off` turns the cache off (a fresh folder per kernel).
pub const ROOT_ENV: &str = "FLOW_EDGE_BUILD_CACHE";
/// The size bound in MiB; slots beyond it are cleared at kernel start.
pub const LIMIT_ENV: &str = "FLOW_EDGE_BUILD_CACHE_LIMIT_MIB";
/// Default bound: a slot warm for the shipped notebooks takes about 140 MiB, but every other
/// crate a notebook `:dep`s, and every source tree of the library (each worktree is its own
/// package to cargo), adds its build; 8 GiB leaves room for that without filling a disk.
const DEFAULT_LIMIT_MIB: u64 = 8 * 1024;
/// How many kernels at once get a kept folder.
pub const SLOT_COUNT: usize = 4;

/// How the cache is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The folder holding the slots.
    pub root: PathBuf,
    /// The number of slots.
    pub slots: usize,
    /// The size bound, in bytes.
    pub limit_bytes: u64,
}

/// What can go wrong with the cache, with the path concerned.
#[derive(Debug)]
pub enum CacheError {
    /// Neither the root variable, `XDG_CACHE_HOME` nor `HOME` names a folder.
    NoCacheDir,
    /// A variable's value is not usable.
    BadSetting {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    /// A file operation failed.
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
}

impl fmt::Display for CacheError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CacheError::NoCacheDir => {
                write!(f, "no cache folder: set {ROOT_ENV}, XDG_CACHE_HOME or HOME")
            }
            CacheError::BadSetting {
                name,
                value,
                expected,
            } => write!(f, "{name}={value:?}: expected {expected}"),
            CacheError::Io { path, error } => write!(f, "{}: {error}", path.display()),
        }
    }
}

impl std::error::Error for CacheError {}

impl CacheError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> CacheError {
        let path = path.into();
        move |error| CacheError::Io { path, error }
    }
}

impl Settings {
    /// The settings from the environment; `Ok(None)` when the cache is turned off.
    pub fn from_env() -> Result<Option<Settings>, CacheError> {
        let var = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        let root = match var(ROOT_ENV) {
            Some(value) if value == "off" => return Ok(None),
            Some(value) => absolute(PathBuf::from(value), ROOT_ENV)?,
            None => default_root()?,
        };
        let limit_mib = match var(LIMIT_ENV) {
            None => DEFAULT_LIMIT_MIB,
            Some(value) => value
                .to_str()
                .and_then(|text| text.trim().parse::<u64>().ok())
                .ok_or_else(|| CacheError::BadSetting {
                    name: LIMIT_ENV,
                    value: value.to_string_lossy().into_owned(),
                    expected: "a whole number of MiB",
                })?,
        };
        Ok(Some(Settings {
            root,
            slots: SLOT_COUNT,
            limit_bytes: limit_mib.saturating_mul(1024 * 1024),
        }))
    }
}

/// `$XDG_CACHE_HOME/flow-edge/evcxr`, else `~/.cache/flow-edge/evcxr` (the XDG default).
fn default_root() -> Result<PathBuf, CacheError> {
    let var = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    let cache_home = match var("XDG_CACHE_HOME") {
        // The XDG spec says a relative value is to be ignored.
        Some(dir) if PathBuf::from(&dir).is_absolute() => PathBuf::from(dir),
        _ => PathBuf::from(var("HOME").ok_or(CacheError::NoCacheDir)?).join(".cache"),
    };
    Ok(cache_home.join("flow-edge").join("evcxr"))
}

/// evcxr refuses a relative build folder; a relative root would also move with the
/// notebook's working folder.
fn absolute(path: PathBuf, name: &'static str) -> Result<PathBuf, CacheError> {
    if path.is_absolute() {
        Ok(path)
    } else {
        Err(CacheError::BadSetting {
            name,
            value: path.to_string_lossy().into_owned(),
            expected: "an absolute path, or `off`",
        })
    }
}
