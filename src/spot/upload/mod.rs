//! Shipping the analyst's feedback (`flow_scores_fb.csv`) to the ML node, as `ml_feedback` did.
//!
//! The original built a shell string out of configuration values and ignored its exit status.
//! Here `scp` is started with an argument vector (no local shell sees any value), in batch
//! mode (it fails instead of prompting inside a notebook), with a connect timeout, and under a
//! deadline on the whole upload: ssh's keepalives notice a node that stopped answering, and
//! past [`ScpOptions::deadline`] scp and its ssh are killed, so a silent node cannot hold a
//! notebook or a cron job. The SFTP protocol is used where scp has it (the remote side takes
//! the path literally); an scp older than OpenSSH 8.7 gets the classic protocol, with the path
//! quoted for the ML node's (POSIX) login shell. Failures come back as [`UploadError`] values
//! an analyst can act on; the local file is only read.
//!
//! ```no_run
//! use flow_edge::spot::upload::{load_day_config, upload_feedback, ScpOptions, UploadTarget};
//! let day = std::path::Path::new("/home/duxbury/spot-oa/data/flow/20160122");
//! let conf = load_day_config(day, None)?; // /etc/duxbay.conf, with DSOURCE and FDATE
//! let target = UploadTarget::from_config(&conf)?;
//! let report = upload_feedback(&day.join("flow_scores_fb.csv"), &target, &ScpOptions::default())?;
//! println!("{report}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod child;
mod day_folder;
mod error;
mod scp;
mod snapshot;

pub use day_folder::{day_variables, load_day_config};
pub use error::UploadError;

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::spot::conf::SpotConfig;
use crate::Day;
use child::Ended;
use snapshot::Snapshot;

/// How long a whole upload may take by default, connection included.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(120);

/// The name the ML node expects the feedback under (the original kept the scores file's name).
pub const REMOTE_FILE_NAME: &str = "flow_scores.csv";

/// Where the feedback goes: `<user>@<host>:<remote_dir>/flow_scores.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadTarget {
    /// The login on the ML node.
    pub user: String,
    /// The ML node's host name or address.
    pub host: String,
    /// The folder on the ML node that receives the file.
    pub remote_dir: String,
}

/// How to run `scp`. The defaults suit a cluster where the analyst's key is already trusted.
#[derive(Debug, Clone)]
pub struct ScpOptions {
    /// The program to run (found on `PATH` unless absolute).
    pub program: PathBuf,
    /// SSH port of the ML node, if not 22.
    pub port: Option<u16>,
    /// The private key to log in with; when set, no other key is offered.
    pub identity_file: Option<PathBuf>,
    /// How long to wait for the ML node to answer the connection.
    pub connect_timeout: Duration,
    /// How long the whole upload may take, from the snapshot to the end of the copy; past it
    /// scp and its ssh are killed and the upload fails with [`UploadError::DeadlineExceeded`].
    pub deadline: Duration,
    /// A known-hosts file to check the ML node's host key against strictly (instead of the
    /// user's own), for setups that ship the node's key with the deployment.
    pub known_hosts_file: Option<PathBuf>,
    /// An ssh client configuration file to use instead of `~/.ssh/config`.
    pub ssh_config_file: Option<PathBuf>,
    /// More `-o` options for ssh, each `Name=value`.
    pub extra_options: Vec<String>,
}

impl Default for ScpOptions {
    fn default() -> Self {
        ScpOptions {
            program: PathBuf::from("scp"),
            port: None,
            identity_file: None,
            connect_timeout: Duration::from_secs(10),
            deadline: DEFAULT_DEADLINE,
            known_hosts_file: None,
            ssh_config_file: None,
            extra_options: Vec::new(),
        }
    }
}

/// What was sent where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadReport {
    /// The local feedback file.
    pub source: PathBuf,
    /// The scp destination, `user@host:path`.
    pub destination: String,
    /// Size of the file sent.
    pub bytes: u64,
}

impl fmt::Display for UploadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sent {} ({} bytes) to {}",
            self.source.display(),
            self.bytes,
            self.destination
        )
    }
}

impl UploadTarget {
    /// Reads `LUSER` (the user is its third `/`-separated part, `/home/<user>`), `MLNODE` and
    /// `LPATH`, as the original's `cut -f3 -d'/'` did.
    pub fn from_config(conf: &SpotConfig) -> Result<Self, UploadError> {
        let luser = conf.require("LUSER")?;
        let user = match luser.split('/').nth(2) {
            Some(user) if !user.is_empty() => user.to_string(),
            _ => {
                return Err(UploadError::BadValue {
                    key: "LUSER",
                    value: luser.to_string(),
                    reason: "expected a home folder like /home/<user>",
                })
            }
        };
        let host = conf.require("MLNODE")?.to_string();
        let remote_dir = conf.require("LPATH")?.to_string();
        let target = UploadTarget {
            user,
            host,
            remote_dir,
        };
        target.validate()?;
        Ok(target)
    }

    /// The scp destination, `user@host:dir/flow_scores.csv`.
    pub fn destination(&self) -> String {
        format!("{}@{}:{}", self.user, self.host, self.remote_path())
    }

    /// The file on the ML node, `dir/flow_scores.csv`.
    fn remote_path(&self) -> String {
        let dir = self.remote_dir.trim_end_matches('/');
        format!("{dir}/{REMOTE_FILE_NAME}")
    }

    /// Refuses names scp would read as options or split differently; the path may hold any
    /// text but a line break, since it is passed as one argument, which SFTP takes literally
    /// and the classic protocol quotes for the remote shell.
    fn validate(&self) -> Result<(), UploadError> {
        let login_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if self.user.starts_with('-') || !self.user.chars().all(login_char) {
            return Err(UploadError::BadValue {
                key: "LUSER",
                value: self.user.clone(),
                reason: "a login name has only letters, digits, '.', '_' and '-'",
            });
        }
        let host_char = |c: char| login_char(c) || matches!(c, ':' | '[' | ']');
        if self.host.starts_with('-') || !self.host.chars().all(host_char) {
            return Err(UploadError::BadValue {
                key: "MLNODE",
                value: self.host.clone(),
                reason: "a host is a name or an address",
            });
        }
        if self.remote_dir.contains('\n') {
            return Err(UploadError::BadValue {
                key: "LPATH",
                value: self.remote_dir.clone(),
                reason: "a path cannot hold a line break",
            });
        }
        Ok(())
    }
}

/// Copies the feedback file to the ML node and reports what was sent, within
/// `options.deadline`.
pub fn upload_feedback(
    feedback: &Path,
    target: &UploadTarget,
    options: &ScpOptions,
) -> Result<UploadReport, UploadError> {
    send(feedback, target, options, Instant::now() + options.deadline)
}

/// Sends a day's feedback as it stands, within `options.deadline`: a private copy taken under
/// the day's lock (so a scoring under way in another notebook cannot send half a line, and an
/// upload of the same day running at the same time has its own copy), then sent as
/// [`upload_feedback`] does. The wait for the day's lock, which any writer of the day also
/// waits for, counts towards the deadline but is not cut by it.
pub fn upload_day_feedback(
    day: &Day,
    target: &UploadTarget,
    options: &ScpOptions,
) -> Result<UploadReport, UploadError> {
    let until = Instant::now() + options.deadline;
    target.validate()?;
    let snapshot = Snapshot::take(day.paths())?;
    let report = send(snapshot.path(), target, options, until)?;
    Ok(UploadReport {
        source: day.paths().feedback.clone(),
        ..report
    })
}

/// Runs scp on `feedback`, killing it (and its ssh) at `until`.
fn send(
    feedback: &Path,
    target: &UploadTarget,
    options: &ScpOptions,
    until: Instant,
) -> Result<UploadReport, UploadError> {
    target.validate()?;
    let bytes = match std::fs::metadata(feedback) {
        Ok(meta) if meta.is_file() => meta.len(),
        _ => {
            return Err(UploadError::MissingFeedback {
                path: feedback.to_path_buf(),
            })
        }
    };
    let unavailable = |source| UploadError::ScpUnavailable {
        program: options.program.clone(),
        source,
    };
    let protocol = scp::protocol(&options.program, until).map_err(unavailable)?;
    let operand = scp::remote_operand(target, protocol);
    let mut command = Command::new(&options.program);
    command.args(scp::arguments(options, protocol, feedback, &operand));
    let destination = target.destination();
    match child::run_until(command, until).map_err(unavailable)? {
        Ended::Exited { status, .. } if status.success() => Ok(UploadReport {
            source: feedback.to_path_buf(),
            destination,
            bytes,
        }),
        Ended::Exited { stderr, .. } => Err(error::classify_failure(target, destination, &stderr)),
        Ended::Killed { stderr } => Err(UploadError::DeadlineExceeded {
            host: target.host.clone(),
            deadline: options.deadline,
            detail: error::one_line(&stderr),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(text: &str) -> SpotConfig {
        SpotConfig::parse(
            text,
            "duxbay.conf",
            &[("DSOURCE", "flow"), ("FDATE", "20160122")],
        )
        .expect("valid configuration")
    }

    #[test]
    fn the_target_follows_the_original_cut_of_luser() {
        let target = UploadTarget::from_config(&conf(
            "MLNODE='node04'\nLUSER='/home/duxbury'\nLPATH=${LUSER}/ml/${DSOURCE}/${FDATE}\n",
        ))
        .expect("complete");
        assert_eq!(
            target.destination(),
            "duxbury@node04:/home/duxbury/ml/flow/20160122/flow_scores.csv"
        );
    }

    #[test]
    fn each_missing_key_is_named() {
        for (text, key) in [
            ("MLNODE=n\nLPATH=/p\n", "LUSER"),
            ("LUSER=/home/u\nLPATH=/p\n", "MLNODE"),
            ("LUSER=/home/u\nMLNODE=n\n", "LPATH"),
        ] {
            let err = UploadTarget::from_config(&conf(text)).expect_err("incomplete");
            assert_eq!(err.to_string(), format!("duxbay.conf: {key} is not set"));
        }
    }

    #[test]
    fn a_host_that_looks_like_an_option_is_refused() {
        let err = UploadTarget::from_config(&conf(
            "LUSER=/home/u\nMLNODE='-oProxyCommand=touch /tmp/x'\nLPATH=/p\n",
        ))
        .expect_err("option-like host");
        assert!(matches!(err, UploadError::BadValue { key: "MLNODE", .. }));
    }

    #[test]
    fn a_missing_feedback_file_is_reported_before_scp_runs() {
        let target = UploadTarget {
            user: "u".into(),
            host: "127.0.0.1".into(),
            remote_dir: "/tmp".into(),
        };
        let options = ScpOptions {
            program: PathBuf::from("/nonexistent/scp"),
            ..ScpOptions::default()
        };
        let err = upload_feedback(
            Path::new("/nonexistent/flow_scores_fb.csv"),
            &target,
            &options,
        )
        .expect_err("no file");
        assert!(matches!(err, UploadError::MissingFeedback { .. }), "{err}");
    }
}
