//! A day on a real deployment: files shared with the OA jobs through their group and mode,
//! rewritten by analysts whose umask says otherwise, and a `flow_scores.csv` that may be a link.

use std::fs;
use std::os::unix::fs::{chown, symlink, MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::succeeded;

/// Runs `flow-edge` with `arguments` under `umask` (set in the child, never in the tests).
fn flow_edge_with_umask(umask: &str, arguments: &[&str]) -> Output {
    Command::new("sh")
        .args(["-c", "umask \"$0\" && exec \"$@\"", umask])
        .arg(env!("CARGO_BIN_EXE_flow-edge"))
        .args(arguments)
        .output()
        .expect("running flow-edge")
}

fn generated_day(dir: &Path) {
    let folder = dir.display().to_string();
    let arguments = ["generate", &folder, "--rows", "300", "--seed", "9"];
    succeeded(flow_edge_with_umask("022", &arguments), "generate");
}

/// The gid of group `daemon`, when this process may give files to it (root may): the group
/// an OA deployment shares its days with.
fn shareable_daemon_group(probe: &Path) -> Option<u32> {
    let groups = fs::read_to_string("/etc/group").ok()?;
    let gid = groups
        .lines()
        .find_map(|line| line.strip_prefix("daemon:x:"))?
        .split(':')
        .next()?
        .parse()
        .ok()?;
    chown(probe, None, Some(gid)).ok().map(|()| gid)
}

/// Asserts that `path` has mode `mode` and, when given, group `gid`.
fn assert_shared(path: &Path, mode: u32, gid: Option<u32>, after: &str) {
    let meta = fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        meta.mode() & 0o777,
        mode,
        "{} after {after}: mode {:o}",
        path.display(),
        meta.mode() & 0o777
    );
    if let Some(gid) = gid {
        assert_eq!(meta.gid(), gid, "{} after {after}: group", path.display());
    }
}

#[test]
fn a_shared_day_keeps_its_mode_and_group_through_every_rewrite_whatever_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    generated_day(dir.path());
    let flow = dir.path().join("flow_scores.csv");
    fs::set_permissions(&flow, fs::Permissions::from_mode(0o640)).unwrap();
    let gid = shareable_daemon_group(&flow);
    if gid.is_none() {
        eprintln!("group daemon cannot be given here (not root): checking modes only");
    }
    let day = dir.path().display().to_string();
    let feedback = dir.path().join("flow_scores_fb.csv");
    let backup = dir.path().join("flow_scores_bu.csv");

    let steps: [(&str, &[&str]); 6] = [
        ("022", &["score", &day, "--dport", "53", "--rating", "1"]),
        ("077", &["score", &day, "--dport", "80", "--rating", "3"]),
        ("077", &["save", &day]),
        ("022", &["rules", &day, "--rescore"]),
        ("077", &["restore", &day]),
        ("022", &["save", &day]),
    ];
    for (umask, arguments) in steps {
        let step = format!("{} under umask {umask}", arguments[0]);
        succeeded(flow_edge_with_umask(umask, arguments), &step);
        assert_shared(&flow, 0o640, gid, &step);
        // The first scoring creates the feedback file, the first open the backup: both take
        // the day file's mode and group, and keep them.
        assert_shared(&feedback, 0o640, gid, &step);
        assert_shared(&backup, 0o640, gid, &step);
    }
}

#[test]
fn a_linked_flow_file_is_read_through_the_link_but_never_replaced() {
    let root = tempfile::tempdir().unwrap();
    let store = root.path().join("store");
    generated_day(&store);
    let day_dir = root.path().join("day");
    fs::create_dir(&day_dir).unwrap();
    let flow = day_dir.join("flow_scores.csv");
    let target = store.join("flow_scores.csv");
    symlink(&target, &flow).unwrap();
    let before = fs::read(&target).unwrap();
    let day = day_dir.display().to_string();

    let lists = succeeded(
        flow_edge_with_umask("022", &["lists", &day, "--json"]),
        "lists",
    );
    assert!(String::from_utf8_lossy(&lists.stdout).contains("src_ips"));

    let writers: [&[&str]; 3] = [
        &["score", &day, "--dport", "53", "--rating", "1"],
        &["save", &day],
        &["restore", &day],
    ];
    for arguments in writers {
        let out = flow_edge_with_umask("022", arguments);
        assert_eq!(out.status.code(), Some(1), "{} succeeded", arguments[0]);
        let message = String::from_utf8_lossy(&out.stderr);
        assert!(
            message.contains("is a symbolic link to") && message.contains("nothing was changed"),
            "{}: {message}",
            arguments[0]
        );
        assert!(fs::symlink_metadata(&flow)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&target).unwrap(), before);
        assert!(!day_dir.join("flow_scores_fb.csv").exists());
        assert!(!day_dir.join("flow_scores.csv.tmp").exists());
        assert!(!day_dir.join("flow_scores.csv.new").exists());
    }
}
