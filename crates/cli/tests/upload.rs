//! `flow-edge upload` as a cron job or an analyst runs it: against an ML node that hangs,
//! from inside the day folder, and on a host whose scp predates SFTP mode. The ML node is a
//! real OpenSSH server on 127.0.0.1 (Debian's `openssh-server`, installed by CI).

#[path = "../../../tests/support/ml_node.rs"]
mod ml_node;
#[path = "../../../tests/support/sshd.rs"]
mod sshd;

use flow_edge::synthetic::{generate_bytes, DaySpec};
use flow_edge::{Day, Selection};
use ml_node::{Behaviour, HangingNode};
use sshd::{current_user, TestServer};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A scored day in `<oa>/data/flow/20160708`; returns its folder and its feedback.
fn scored_day(oa: &Path) -> (PathBuf, Vec<u8>) {
    let dir = oa.join("data/flow/20160708");
    fs::create_dir_all(&dir).expect("day dir");
    fs::write(
        dir.join("flow_scores.csv"),
        generate_bytes(&DaySpec::new(400, 9)),
    )
    .expect("write day");
    let day = Day::open(&dir).expect("open day");
    let ip = day.listbox_values().expect("lists").src_ips[0].clone();
    day.score(&Selection::new().quick_ip(ip), 3).expect("score");
    let feedback = fs::read(&day.paths().feedback).expect("feedback");
    (dir, feedback)
}

/// A Spot configuration sending to `127.0.0.1:<base>/ml/<source>/<date>`, the Spot way.
fn spot_conf(oa: &Path, base: &Path) -> PathBuf {
    let path = oa.join("spot.conf");
    let quoted = base.display().to_string().replace('\'', r"'\''");
    fs::write(
        &path,
        format!(
            "MLNODE='127.0.0.1'\nLUSER='/home/{}'\nBASE='{quoted}'\nLPATH=${{BASE}}/ml/${{DSOURCE}}/${{FDATE}}\n",
            current_user()
        ),
    )
    .expect("write conf");
    path
}

/// Runs `flow-edge` in `folder` with `path_first` ahead on `PATH`; fails the test if it is
/// still running after `limit`.
fn flow_edge(folder: &Path, args: &[String], path_first: Option<&Path>, limit: Duration) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flow-edge"));
    command
        .args(args)
        .current_dir(folder)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = path_first {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![dir.to_path_buf()];
        dirs.extend(std::env::split_paths(&path));
        command.env("PATH", std::env::join_paths(dirs).expect("PATH"));
    }
    let mut child = command.spawn().expect("run flow-edge");
    let until = Instant::now() + limit;
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("flow-edge {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| item.to_string()).collect()
}

#[test]
fn an_upload_to_a_silent_ml_node_fails_within_its_deadline() {
    let node = HangingNode::start(Behaviour::Silent);
    let oa = tempfile::tempdir().expect("temp dir");
    let (day, feedback) = scored_day(oa.path());
    let conf = spot_conf(oa.path(), Path::new("/tmp"));
    let mut args = strings(&["upload", ".", "--timeout", "3", "--deadline", "5"]);
    args.extend(strings(&["--config", &conf.display().to_string()]));
    args.extend(strings(&["--port", &node.port.to_string()]));
    args.extend(strings(&["--ssh-config", "/dev/null"]));

    let started = Instant::now();
    let out = flow_edge(&day, &args, None, Duration::from_secs(30));
    let took = started.elapsed();

    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(took < Duration::from_secs(6), "{took:?}");
    let shown = text(&out.stderr);
    assert!(
        shown.starts_with("flow-edge: ML node 127.0.0.1 "),
        "{shown}"
    );
    assert!(
        shown.contains("timed out") || shown.contains("within 5 s"),
        "{shown}"
    );
    assert_eq!(
        fs::read(day.join("flow_scores_fb.csv")).expect("feedback"),
        feedback
    );
}

#[test]
fn the_deadline_must_be_a_whole_number_of_seconds() {
    let oa = tempfile::tempdir().expect("temp dir");
    for (bad, complaint) in [
        ("0", "--deadline must be at least 1 second"),
        ("soon", "--deadline \"soon\" is not a number"),
    ] {
        let out = flow_edge(
            oa.path(),
            &strings(&["upload", ".", "--deadline", bad]),
            None,
            Duration::from_secs(10),
        );
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(
            text(&out.stderr).starts_with(&format!("flow-edge: {complaint}\n")),
            "{bad}"
        );
    }
}

#[test]
fn upload_from_inside_the_day_folder_finds_the_source_and_date_in_its_path() {
    let server = TestServer::start();
    let oa = tempfile::tempdir().expect("temp dir");
    let (day, feedback) = scored_day(oa.path());
    let remote = server.path("home");
    fs::create_dir_all(remote.join("ml/flow/20160708")).expect("remote dir");
    let conf = spot_conf(oa.path(), &remote);
    let mut args = strings(&["upload", ".", "--config", &conf.display().to_string()]);
    args.extend(server.cli_options("client_key"));

    let out = flow_edge(&day, &args, None, Duration::from_secs(60));

    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let arrived = fs::read(remote.join("ml/flow/20160708/flow_scores.csv")).expect("arrived");
    assert!(arrived == feedback);
    assert!(text(&out.stdout).contains("/ml/flow/20160708/flow_scores.csv"));
}

#[test]
fn a_host_whose_scp_has_no_sftp_mode_still_delivers_to_the_literal_folder() {
    let server = TestServer::start();
    let oa = tempfile::tempdir().expect("temp dir");
    let (day, feedback) = scored_day(oa.path());
    let marker = oa.path().join("pwned");
    let base = server.path(&format!(
        "it's $(touch {m}) `touch {m}`",
        m = marker.display()
    ));
    fs::create_dir_all(base.join("ml/flow/20160708")).expect("remote dir");
    let conf = spot_conf(oa.path(), &base);
    let tools = tempfile::tempdir().expect("temp dir");
    sshd::old_scp(tools.path());
    let mut args = strings(&["upload", &day.display().to_string()]);
    args.extend(strings(&["--config", &conf.display().to_string()]));
    args.extend(server.cli_options("client_key"));

    let out = flow_edge(
        oa.path(),
        &args,
        Some(tools.path()),
        Duration::from_secs(60),
    );

    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let arrived = fs::read(base.join("ml/flow/20160708/flow_scores.csv")).expect("arrived");
    assert!(arrived == feedback);
    assert!(
        !marker.exists(),
        "the remote shell ran a command from the path"
    );
    let calls = sshd::old_scp_calls(tools.path());
    assert_eq!(calls.len(), 2, "asked about -s, then sent: {calls:#?}");
    assert!(!calls[1].split(' ').any(|argument| argument == "-s"));
}
