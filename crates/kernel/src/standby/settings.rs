//! The standby's settings, from the environment.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// `off` turns standbys off; anything else (or unset) leaves them on.
pub const SWITCH_ENV: &str = "FLOW_EDGE_STANDBY";
/// The folder for the standby's socket, lock and log (default: under `XDG_RUNTIME_DIR`).
pub const DIR_ENV: &str = "FLOW_EDGE_STANDBY_DIR";
/// Seconds a new standby waits before warming up.
pub const DELAY_ENV: &str = "FLOW_EDGE_STANDBY_DELAY_SECS";
/// Seconds a ready standby waits for a notebook before it exits.
pub const IDLE_ENV: &str = "FLOW_EDGE_STANDBY_IDLE_SECS";

const DEFAULT_DELAY: Duration = Duration::from_secs(20);
const DEFAULT_IDLE: Duration = Duration::from_secs(3600);
/// A standby holds a few hundred MB; a day is the longest it may wait.
const LONGEST_IDLE: Duration = Duration::from_secs(86_400);

/// How standbys behave for this user and configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandbySettings {
    pub dir: PathBuf,
    pub delay: Duration,
    pub idle: Duration,
}

/// A setting that is not a number of seconds in range.
#[derive(Debug, PartialEq, Eq)]
pub struct SettingError {
    pub variable: &'static str,
    pub value: String,
}

impl fmt::Display for SettingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}={:?}: expected whole seconds from 0 to {}",
            self.variable,
            self.value,
            LONGEST_IDLE.as_secs()
        )
    }
}

impl std::error::Error for SettingError {}

impl StandbySettings {
    /// The settings, or `Ok(None)` when standbys are off.
    pub fn from_env() -> Result<Option<StandbySettings>, SettingError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
    }

    fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<StandbySettings>, SettingError> {
        if lookup(SWITCH_ENV).is_some_and(|switch| switch.eq_ignore_ascii_case("off")) {
            return Ok(None);
        }
        let seconds = |variable: &'static str, default: Duration| match lookup(variable) {
            None => Ok(default),
            Some(value) => match value.trim().parse::<u64>() {
                Ok(secs) if secs <= LONGEST_IDLE.as_secs() => Ok(Duration::from_secs(secs)),
                _ => Err(SettingError { variable, value }),
            },
        };
        let dir = match lookup(DIR_ENV) {
            Some(dir) => PathBuf::from(dir),
            None => default_dir(lookup("XDG_RUNTIME_DIR")),
        };
        Ok(Some(StandbySettings {
            dir,
            delay: seconds(DELAY_ENV, DEFAULT_DELAY)?,
            idle: seconds(IDLE_ENV, DEFAULT_IDLE)?,
        }))
    }
}

/// `$XDG_RUNTIME_DIR/flow-edge-standby` (a per-user folder the system cleans at logout), else
/// a per-user folder in the temporary folder.
fn default_dir(runtime_dir: Option<String>) -> PathBuf {
    match runtime_dir {
        Some(runtime) => PathBuf::from(runtime).join("flow-edge-standby"),
        None => std::env::temp_dir().join(format!("flow-edge-standby-{}", current_uid())),
    }
}

/// This process's real user id.
pub(super) fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Option<StandbySettings>, SettingError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        StandbySettings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn standbys_are_on_by_default_under_the_runtime_dir_and_off_on_request() {
        let on = settings(&[("XDG_RUNTIME_DIR", "/run/user/7")])
            .unwrap()
            .unwrap();
        assert_eq!(on.dir, PathBuf::from("/run/user/7/flow-edge-standby"));
        assert_eq!(on.delay, DEFAULT_DELAY);
        assert_eq!(on.idle, DEFAULT_IDLE);
        assert_eq!(settings(&[(SWITCH_ENV, "OFF")]).unwrap(), None);
        let named = settings(&[(DIR_ENV, "/x"), (DELAY_ENV, "0"), (IDLE_ENV, "90")])
            .unwrap()
            .unwrap();
        assert_eq!(named.dir, PathBuf::from("/x"));
        assert_eq!(named.delay, Duration::ZERO);
        assert_eq!(named.idle, Duration::from_secs(90));
    }

    #[test]
    fn a_wait_that_is_not_whole_seconds_in_range_is_refused_by_name() {
        let error = settings(&[(IDLE_ENV, "forever")]).unwrap_err();
        assert_eq!(error.variable, IDLE_ENV);
        assert!(error
            .to_string()
            .contains("FLOW_EDGE_STANDBY_IDLE_SECS=\"forever\""));
        assert!(settings(&[(DELAY_ENV, "99999999")]).is_err());
        assert!(settings(&[(DELAY_ENV, "-1")]).is_err());
    }
}
