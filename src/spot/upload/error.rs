//! Why an upload failed, in words an analyst can act on.

use super::UploadTarget;
use crate::spot::conf::ConfigError;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Why the feedback did not reach the ML node. In every case the local file is unchanged.
#[derive(Debug)]
pub enum UploadError {
    /// The configuration is missing, unreadable, or lacks `LUSER`, `MLNODE` or `LPATH`.
    Config(ConfigError),
    /// A configuration value cannot be used as a login or host name.
    BadValue {
        key: &'static str,
        value: String,
        reason: &'static str,
    },
    /// There is no feedback to send: nothing was scored yet for this day.
    MissingFeedback { path: PathBuf },
    /// The day's feedback could not be read consistently (lock, recovery, copy).
    Day(crate::Error),
    /// `scp` is not installed or could not be started.
    ScpUnavailable {
        program: PathBuf,
        source: std::io::Error,
    },
    /// The ML node did not answer (refused, timed out, unknown name, no route).
    Unreachable { host: String, detail: String },
    /// The ML node answered but did not accept the key.
    KeyRefused {
        user: String,
        host: String,
        detail: String,
    },
    /// The ML node's host key is unknown or does not match the known one.
    HostKeyRejected { host: String, detail: String },
    /// The copy itself failed (for example the remote folder does not exist).
    CopyFailed { destination: String, detail: String },
    /// The upload did not end within its deadline, and scp (with its ssh) was stopped.
    DeadlineExceeded {
        host: String,
        deadline: Duration,
        detail: String,
    },
    /// The upload was given up before it ended, for the reason given (its thread could not
    /// be started, or stopped unexpectedly).
    Abandoned(String),
}

impl fmt::Display for UploadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UploadError::Config(e) => write!(f, "{e}"),
            UploadError::BadValue { key, value, reason } => {
                write!(f, "{key} value {value:?} cannot be used: {reason}")
            }
            UploadError::MissingFeedback { path } => write!(
                f,
                "{}: no feedback file to send (score some connections first)",
                path.display()
            ),
            UploadError::Day(e) => write!(f, "{e}"),
            UploadError::ScpUnavailable { program, source } => {
                write!(f, "cannot run {}: {source}", program.display())
            }
            UploadError::Unreachable { host, detail } => {
                write!(f, "ML node {host} is unreachable: {detail}")
            }
            UploadError::KeyRefused { user, host, detail } => {
                write!(f, "ML node {host} refused the key for {user}: {detail}")
            }
            UploadError::HostKeyRejected { host, detail } => write!(
                f,
                "the host key of ML node {host} is unknown or changed: {detail}"
            ),
            UploadError::CopyFailed {
                destination,
                detail,
            } => {
                write!(f, "copy to {destination} failed: {detail}")
            }
            UploadError::DeadlineExceeded {
                host,
                deadline,
                detail,
            } => {
                write!(
                    f,
                    "ML node {host} did not take the feedback within {} s, so the upload was stopped",
                    deadline.as_secs_f64()
                )?;
                if !detail.is_empty() {
                    write!(f, " ({detail})")?;
                }
                Ok(())
            }
            UploadError::Abandoned(reason) => write!(f, "the upload was given up: {reason}"),
        }
    }
}

impl std::error::Error for UploadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            UploadError::Config(e) => Some(e),
            UploadError::Day(e) => Some(e),
            UploadError::ScpUnavailable { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<ConfigError> for UploadError {
    fn from(e: ConfigError) -> Self {
        UploadError::Config(e)
    }
}

/// scp's error output as one line: its non-empty lines joined with `; `.
pub(super) fn one_line(stderr: &str) -> String {
    stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Turns scp's complaint into the error the analyst can act on.
pub(super) fn classify_failure(
    target: &UploadTarget,
    destination: String,
    stderr: &str,
) -> UploadError {
    let detail = one_line(stderr);
    let has = |needle: &str| stderr.contains(needle);
    if has("Permission denied (") {
        UploadError::KeyRefused {
            user: target.user.clone(),
            host: target.host.clone(),
            detail,
        }
    } else if has("Host key verification failed") || has("HOST IDENTIFICATION HAS CHANGED") {
        UploadError::HostKeyRejected {
            host: target.host.clone(),
            detail,
        }
    } else if [
        "Connection refused",
        // "Connection timed out", "timed out during banner exchange", and ssh's keepalives
        // giving up: "Connection to <host> port <port> timed out".
        "timed out",
        // Keepalives unanswered once logged in.
        "not responding",
        "No route to host",
        "Network is unreachable",
        "Could not resolve hostname",
        "Name or service not known",
        "Connection closed by",
        "Connection reset by",
    ]
    .iter()
    .any(|needle| has(needle))
    {
        UploadError::Unreachable {
            host: target.host.clone(),
            detail,
        }
    } else {
        UploadError::CopyFailed {
            destination,
            detail,
        }
    }
}
