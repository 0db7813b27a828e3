//! scp's argument vector: batch mode, the SFTP protocol (`-s`: the remote side takes the path
//! literally), a connect timeout, and ssh keepalives sized from the upload's deadline.

use super::ScpOptions;
use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

/// ssh's own check of a silent link gives up after this many unanswered keepalives.
pub(super) const KEEPALIVE_COUNT: u64 = 3;

/// The full argument vector for scp, operands last after `--`.
pub(super) fn arguments(options: &ScpOptions, source: &Path, operand: &str) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["-s".into()];
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
    fn keepalives_give_up_before_the_deadline() {
        for seconds in [5, 30, 120, 600] {
            let deadline = Duration::from_secs(seconds);
            assert!(keepalive_interval(deadline) * KEEPALIVE_COUNT < seconds);
        }
    }
}
