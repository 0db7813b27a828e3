//! Which scp protocol to speak, and scp's argument vector.
//!
//! SFTP mode (`scp -s`) takes the remote path literally, but it exists only from OpenSSH 8.7;
//! the scp of RHEL/CentOS 7 and 8, common on Spot clusters, answers `unknown option -- s`.
//! Each scp program is asked once (`scp -s` without operands: a modern one prints its usage,
//! an old one complains about the option) and the answer is kept for the life of the process.
//!
//! In the classic protocol the remote path becomes part of a command line that the ML node's
//! login shell reads (`scp -t <path>`). It is therefore quoted for a POSIX shell: inside single
//! quotes every character stands for itself, and a single quote is written `'\''`. So the
//! same configuration sends to the same folder in both modes, whatever the folder is called,
//! without refusing names that SFTP accepts. Line breaks are refused for both modes earlier
//! ([`super::UploadTarget`]'s checks). This assumes the usual login shell of the Spot user,
//! bash or another POSIX shell; a csh-family login shell is not supported in classic mode.

use super::child::{self, Ended};
use super::{ScpOptions, UploadTarget};
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How the feedback travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Protocol {
    /// `scp -s`: the SFTP protocol; the remote path is taken literally.
    Sftp,
    /// Classic scp (OpenSSH before 8.7): the remote path goes through the remote shell.
    Classic,
}

/// The longest the question "do you know `-s`?" may take.
const PROBE_LIMIT: Duration = Duration::from_secs(10);

/// ssh's own check of a silent link gives up after this many unanswered keepalives.
pub(super) const KEEPALIVE_COUNT: u64 = 3;

/// The answers so far, per scp program (by the path it was found at).
static PROTOCOLS: Mutex<Option<HashMap<PathBuf, Protocol>>> = Mutex::new(None);

/// The protocol `program` speaks, asking it the first time. `Err` when it cannot be run.
pub(super) fn protocol(program: &Path, until: Instant) -> std::io::Result<Protocol> {
    let key = locate(program).unwrap_or_else(|| program.to_path_buf());
    let known = |table: &Option<HashMap<PathBuf, Protocol>>| {
        table.as_ref().and_then(|table| table.get(&key).copied())
    };
    if let Some(protocol) = known(&PROTOCOLS.lock().unwrap_or_else(PoisonError::into_inner)) {
        return Ok(protocol);
    }
    let mut command = std::process::Command::new(program);
    command.arg("-s");
    let probe_until = until.min(Instant::now() + PROBE_LIMIT);
    let protocol = match child::run_until(command, probe_until)? {
        Ended::Exited { stderr, .. } if rejects_s(&stderr) => Protocol::Classic,
        Ended::Exited { .. } => Protocol::Sftp,
        // No answer in time: assume the modern default and ask again next time.
        Ended::Killed { .. } => return Ok(Protocol::Sftp),
    };
    PROTOCOLS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_or_insert_with(HashMap::new)
        .insert(key, protocol);
    Ok(protocol)
}

/// True when scp's complaint is about `-s` itself, in the words of OpenSSH's bundled getopt,
/// glibc's or BSD's.
fn rejects_s(stderr: &str) -> bool {
    [
        "unknown option -- s",
        "invalid option -- 's'",
        "illegal option -- s",
    ]
    .iter()
    .any(|complaint| stderr.contains(complaint))
}

/// Where `program` is: itself when it names a path, else its first executable match on `PATH`,
/// as the operating system will find it.
fn locate(program: &Path) -> Option<PathBuf> {
    if program.components().count() > 1 {
        return std::path::absolute(program).ok();
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// The remote operand, `user@host:path`, as `protocol` needs it.
pub(super) fn remote_operand(target: &UploadTarget, protocol: Protocol) -> String {
    match protocol {
        Protocol::Sftp => target.destination(),
        Protocol::Classic => format!(
            "{}@{}:{}",
            target.user,
            target.host,
            shell_quoted(&target.remote_path())
        ),
    }
}

/// `path` as one word for a POSIX shell. A path starting with `-` gets `./` first, so the
/// remote `scp -t` cannot read it as an option.
fn shell_quoted(path: &str) -> String {
    let path = if path.starts_with('-') {
        format!("./{path}")
    } else {
        path.to_string()
    };
    format!("'{}'", path.replace('\'', r"'\''"))
}

/// The full argument vector for scp, operands last after `--`.
pub(super) fn arguments(
    options: &ScpOptions,
    protocol: Protocol,
    source: &Path,
    operand: &str,
) -> Vec<OsString> {
    let mut args: Vec<OsString> = Vec::new();
    if protocol == Protocol::Sftp {
        args.push("-s".into());
    }
    let mut option = |text: String| {
        args.push("-o".into());
        args.push(text.into());
    };
    option("BatchMode=yes".to_string());
    option(format!(
        "ConnectTimeout={}",
        options.connect_timeout.as_secs().max(1)
    ));
    option(format!(
        "ServerAliveInterval={}",
        keepalive_interval(options.deadline)
    ));
    option(format!("ServerAliveCountMax={KEEPALIVE_COUNT}"));
    if let Some(known_hosts) = &options.known_hosts_file {
        option(format!("UserKnownHostsFile={}", known_hosts.display()));
        option("StrictHostKeyChecking=yes".to_string());
    }
    if options.identity_file.is_some() {
        option("IdentitiesOnly=yes".to_string());
    }
    for extra in &options.extra_options {
        option(extra.clone());
    }
    if let Some(config) = &options.ssh_config_file {
        args.push("-F".into());
        args.push(config.into());
    }
    if let Some(port) = options.port {
        args.push("-P".into());
        args.push(port.to_string().into());
    }
    if let Some(identity) = &options.identity_file {
        args.push("-i".into());
        args.push(identity.into());
    }
    args.push("--".into());
    args.push(source.into());
    args.push(operand.into());
    args
}

/// Seconds between ssh's keepalives: a sixth of the deadline, 1 to 15 s, so that ssh itself
/// notices a node that stopped answering (after [`KEEPALIVE_COUNT`] of them) before the wall
/// clock has to stop it, and a busy link is not cut for a short silence.
pub(super) fn keepalive_interval(deadline: Duration) -> u64 {
    (deadline.as_secs() / 6).clamp(1, 15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_paths_are_single_quoted_for_the_remote_shell() {
        assert_eq!(shell_quoted("/home/u/ml"), "'/home/u/ml'");
        assert_eq!(
            shell_quoted("/tmp/$(touch x); `id` it's"),
            r"'/tmp/$(touch x); `id` it'\''s'"
        );
        assert_eq!(shell_quoted("-oProxyCommand=x"), "'./-oProxyCommand=x'");
    }

    #[test]
    fn every_getopt_wording_of_an_unknown_s_is_recognised() {
        assert!(rejects_s(
            "scp: unknown option -- s\nusage: scp [-12346BCpqrv]"
        ));
        assert!(rejects_s("scp: invalid option -- 's'"));
        assert!(rejects_s("scp: illegal option -- s"));
        assert!(!rejects_s(
            "usage: scp [-346ABCOpqRrsTv] [-c cipher] [-D sftp_server_path]"
        ));
    }

    #[test]
    fn keepalives_give_up_before_the_deadline() {
        for seconds in [5, 30, 120, 600] {
            let deadline = Duration::from_secs(seconds);
            assert!(keepalive_interval(deadline) * KEEPALIVE_COUNT < seconds);
        }
    }
}
