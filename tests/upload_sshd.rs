//! The feedback upload against a real OpenSSH server started for the test on 127.0.0.1.
//!
//! Needs Debian's `openssh-server` and `openssh-client` (CI installs them); without them these
//! tests fail with a message saying so rather than passing without having run.

#[path = "support/ml_node.rs"]
mod ml_node;
#[path = "support/sshd.rs"]
mod sshd;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use flow_edge::spot::conf::SpotConfig;
use flow_edge::spot::upload::{
    day_variables, upload_day_feedback, upload_feedback, ScpOptions, UploadError, UploadTarget,
};
use flow_edge::synthetic::{generate_bytes, DaySpec};
use flow_edge::{Day, Selection};
use sshd::{current_user, free_port, TestServer};

/// A feedback file with awkward bytes: tabs, quotes, non-ASCII, no final newline.
fn feedback_file(dir: &Path) -> (PathBuf, Vec<u8>) {
    let mut bytes = b"sev\ttstart\tsrcIP\tdstIP\n".to_vec();
    for i in 0..2000 {
        bytes.extend_from_slice(
            format!(
                "3\t2016-01-22 10:{:02}:00\t10.0.0.{}\t\"Zürich\" 192.168.1.{}\n",
                i % 60,
                i % 250,
                i % 7
            )
            .as_bytes(),
        );
    }
    bytes.extend_from_slice(b"1\tlast line without newline");
    let path = dir.join("flow_scores_fb.csv");
    std::fs::write(&path, &bytes).expect("write feedback");
    (path, bytes)
}

#[test]
fn feedback_arrives_on_the_ml_node_byte_for_byte() {
    let server = TestServer::start();
    let local = tempfile::tempdir().expect("temp dir");
    let (feedback, bytes) = feedback_file(local.path());
    let remote_dir = server.path("ml/flow/20160122");
    std::fs::create_dir_all(&remote_dir).expect("remote dir");

    let target = server.target(&format!("'{}'", remote_dir.display()));
    let report = upload_feedback(&feedback, &target, &server.options("client_key"))
        .expect("upload succeeds");

    assert_eq!(report.bytes, bytes.len() as u64);
    let arrived = std::fs::read(remote_dir.join("flow_scores.csv")).expect("file arrived");
    assert!(arrived == bytes, "the copy differs from the original");
    assert_eq!(std::fs::read(&feedback).expect("local file"), bytes);
}

#[test]
fn a_key_the_node_does_not_know_is_refused_with_a_clear_error() {
    let server = TestServer::start();
    let local = tempfile::tempdir().expect("temp dir");
    let (feedback, bytes) = feedback_file(local.path());
    let target = server.target(&format!("'{}'", server.path("").display()));

    let err = upload_feedback(&feedback, &target, &server.options("stranger_key"))
        .expect_err("the stranger key is refused");

    assert!(matches!(err, UploadError::KeyRefused { .. }), "{err}");
    assert!(err.to_string().contains("refused the key"), "{err}");
    assert!(!server.path("flow_scores.csv").exists());
    assert_eq!(std::fs::read(&feedback).expect("local file"), bytes);
}

#[test]
fn shell_metacharacters_in_the_configuration_are_passed_literally() {
    let server = TestServer::start();
    let local = tempfile::tempdir().expect("temp dir");
    let (feedback, bytes) = feedback_file(local.path());
    let marker = local.path().join("pwned");
    let hostile = format!(
        "$(touch {}); ;|& `touch {}`",
        marker.display(),
        marker.display()
    );
    let remote_dir = server.path(&hostile);
    std::fs::create_dir_all(&remote_dir).expect("literal remote dir");

    // Single quotes in the configuration keep every metacharacter as text, as in the shell.
    let target = server.target(&format!("'{}'", remote_dir.display()));
    assert_eq!(target.remote_dir, remote_dir.display().to_string());
    upload_feedback(&feedback, &target, &server.options("client_key")).expect("upload succeeds");

    assert!(!marker.exists(), "a command in the configuration was run");
    let arrived = std::fs::read(remote_dir.join("flow_scores.csv")).expect("file in literal dir");
    assert!(arrived == bytes);
}

#[test]
fn a_node_that_does_not_answer_is_reported_unreachable() {
    let server = TestServer::start();
    let local = tempfile::tempdir().expect("temp dir");
    let (feedback, _) = feedback_file(local.path());
    let target = server.target("/tmp");
    let options = ScpOptions {
        port: Some(free_port()),
        ..server.options("client_key")
    };

    let err = upload_feedback(&feedback, &target, &options).expect_err("nobody listens");

    assert!(matches!(err, UploadError::Unreachable { .. }), "{err}");
}

#[test]
fn a_missing_remote_folder_is_a_copy_error_naming_the_destination() {
    let server = TestServer::start();
    let local = tempfile::tempdir().expect("temp dir");
    let (feedback, _) = feedback_file(local.path());
    let target = server.target(&format!("'{}'", server.path("no/such/dir").display()));

    let err = upload_feedback(&feedback, &target, &server.options("client_key"))
        .expect_err("no remote folder");

    assert!(matches!(err, UploadError::CopyFailed { .. }), "{err}");
    assert!(
        err.to_string().contains("no/such/dir/flow_scores.csv"),
        "{err}"
    );
}

#[test]
fn a_scored_day_ships_its_feedback_to_the_folder_named_by_the_spot_configuration() {
    let server = TestServer::start();
    let oa = tempfile::tempdir().expect("temp dir");
    let day_dir = oa.path().join("data/flow/20160708");
    std::fs::create_dir_all(&day_dir).expect("day dir");
    std::fs::write(
        day_dir.join("flow_scores.csv"),
        generate_bytes(&DaySpec::new(500, 5)),
    )
    .expect("write day");
    let day = Day::open(&day_dir).expect("open day");
    let lists = day.listbox_values().expect("lists");
    day.score(&Selection::new().quick_ip(lists.src_ips[0].clone()), 3)
        .expect("score");

    // LPATH is built the Spot way, from LUSER and the day's DSOURCE and FDATE.
    let home = server.path("home");
    std::fs::create_dir_all(home.join("ml/flow/20160708")).expect("remote dir");
    let conf_text = format!(
        "MLNODE='127.0.0.1'\nLUSER='/home/{}'\nBASE='{}'\nLPATH=${{BASE}}/ml/${{DSOURCE}}/${{FDATE}}\n",
        current_user(),
        home.display()
    );
    let conf_path = oa.path().join("duxbay.conf");
    std::fs::write(&conf_path, conf_text).expect("write conf");
    let conf = SpotConfig::load(&conf_path, &day_variables(&day_dir)).expect("conf");
    let target = UploadTarget::from_config(&conf).expect("target");

    let report = upload_day_feedback(&day, &target, &server.options("client_key")).expect("upload");

    let sent = std::fs::read(&day.paths().feedback).expect("feedback");
    assert!(sent.len() > 100, "the scoring produced feedback");
    assert_eq!(report.bytes, sent.len() as u64);
    assert_eq!(report.source, day.paths().feedback);
    let arrived = std::fs::read(home.join("ml/flow/20160708/flow_scores.csv")).expect("arrived");
    assert!(arrived == sent);
    assert!(
        !day_dir.join("flow_scores_fb.csv.upload").exists(),
        "the snapshot is cleaned up"
    );
}

#[test]
fn a_day_without_feedback_has_nothing_to_send() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("flow_scores.csv"),
        generate_bytes(&DaySpec::new(20, 5)),
    )
    .expect("write day");
    let day = Day::open(dir.path()).expect("open day");

    let err = upload_day_feedback(&day, &server.target("/tmp"), &server.options("client_key"))
        .expect_err("no feedback");

    assert!(matches!(err, UploadError::MissingFeedback { .. }), "{err}");
    assert!(err.to_string().contains("score some connections first"));
}

#[test]
fn a_node_whose_host_key_does_not_match_the_known_one_is_refused() {
    let server = TestServer::start();
    let local = tempfile::tempdir().expect("temp dir");
    let (feedback, _) = feedback_file(local.path());
    let impostor = std::fs::read_to_string(server.path("stranger_key.pub")).expect("key");
    let known_hosts = local.path().join("known_hosts");
    std::fs::write(
        &known_hosts,
        format!("[127.0.0.1]:{} {impostor}", server.port),
    )
    .expect("write known_hosts");
    let options = ScpOptions {
        known_hosts_file: Some(known_hosts),
        ..server.options("client_key")
    };

    let err = upload_feedback(&feedback, &server.target("/tmp"), &options)
        .expect_err("the host key differs");

    assert!(matches!(err, UploadError::HostKeyRejected { .. }), "{err}");
}

/// A generated day in `<oa>/data/flow/20160708` whose feedback file holds `lines` rows.
fn day_with_feedback(oa: &Path, lines: usize) -> (Day, Vec<u8>) {
    let dir = oa.join("data/flow/20160708");
    std::fs::create_dir_all(&dir).expect("day dir");
    std::fs::write(
        dir.join("flow_scores.csv"),
        generate_bytes(&DaySpec::new(50, 3)),
    )
    .expect("write day");
    let mut feedback = b"sev\ttstart\tsrcIP\tdstIP\tsport\tdport\n".to_vec();
    for i in 0..lines {
        feedback.extend_from_slice(
            format!(
                "{}\t2016-07-08 10:{:02}:{:02}\t10.0.{}.{}\t192.168.{}.{}\t{}\t443\n",
                i % 3 + 1,
                i / 60 % 60,
                i % 60,
                i / 250 % 250,
                i % 250,
                i / 7 % 250,
                i % 7,
                1024 + i % 60000
            )
            .as_bytes(),
        );
    }
    std::fs::write(dir.join("flow_scores_fb.csv"), &feedback).expect("write feedback");
    (Day::open(&dir).expect("open day"), feedback)
}

/// The upload copies left in a day folder.
fn upload_copies(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("day dir")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.starts_with("flow_scores_fb.csv.upload"))
        .collect()
}

#[test]
fn a_node_that_trickles_bytes_forever_is_cut_off_at_the_deadline() {
    let node = ml_node::HangingNode::start(ml_node::Behaviour::Trickle);
    let local = tempfile::tempdir().expect("temp dir");
    let (feedback, bytes) = feedback_file(local.path());
    let target = UploadTarget {
        user: current_user(),
        host: "127.0.0.1".into(),
        remote_dir: "/tmp".into(),
    };
    let options = ScpOptions {
        port: Some(node.port),
        ssh_config_file: Some(PathBuf::from("/dev/null")),
        known_hosts_file: Some(local.path().join("known_hosts")),
        connect_timeout: Duration::from_secs(2),
        deadline: Duration::from_secs(3),
        ..ScpOptions::default()
    };

    let started = Instant::now();
    let err = upload_feedback(&feedback, &target, &options).expect_err("the node never answers");
    let took = started.elapsed();

    assert!(matches!(err, UploadError::DeadlineExceeded { .. }), "{err}");
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert!(
        err.to_string()
            .starts_with("ML node 127.0.0.1 did not take the feedback within 3 s"),
        "{err}"
    );
    // ssh was stopped with scp: the node sees its connection closed.
    let closed_by = Instant::now() + Duration::from_secs(2);
    while node.closed_connections() == 0 && Instant::now() < closed_by {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        node.closed_connections(),
        1,
        "ssh still holds the connection"
    );
    assert_eq!(std::fs::read(&feedback).expect("local file"), bytes);
}

#[test]
fn overlapping_uploads_of_one_day_both_deliver_the_whole_file() {
    let server = TestServer::start();
    let oa = tempfile::tempdir().expect("temp dir");
    let (day, feedback) = day_with_feedback(oa.path(), 400_000);
    let options = server.options("client_key");
    // The second upload starts a little later each round, so that its copy of the feedback is
    // made at each stage of the first one: while it connects, while it sends, as it ends.
    for (round, lag) in [0u64, 100, 200, 400, 800].into_iter().enumerate() {
        let dirs = [
            server.path(&format!("a{round}")),
            server.path(&format!("b{round}")),
        ];
        let results: Vec<_> = std::thread::scope(|scope| {
            let uploads: Vec<_> = dirs
                .iter()
                .zip([0, lag])
                .map(|(dir, wait)| {
                    std::fs::create_dir_all(dir).expect("remote dir");
                    let target = server.target(&format!("'{}'", dir.display()));
                    let (day, options) = (&day, &options);
                    scope.spawn(move || {
                        std::thread::sleep(Duration::from_millis(wait));
                        upload_day_feedback(day, &target, options)
                    })
                })
                .collect();
            uploads
                .into_iter()
                .map(|u| u.join().expect("thread"))
                .collect()
        });
        for (dir, result) in dirs.iter().zip(results) {
            let report = result.unwrap_or_else(|e| panic!("second upload {lag} ms later: {e}"));
            assert_eq!(report.bytes, feedback.len() as u64);
            let arrived = std::fs::read(dir.join("flow_scores.csv")).expect("arrived");
            assert!(
                arrived == feedback,
                "second upload {lag} ms later: {} differs",
                dir.display()
            );
        }
    }
    assert_eq!(upload_copies(&day.paths().dir), Vec::<String>::new());
}

#[test]
fn upload_copies_left_by_a_dead_upload_are_removed_and_those_in_use_kept() {
    let server = TestServer::start();
    let oa = tempfile::tempdir().expect("temp dir");
    let (day, feedback) = day_with_feedback(oa.path(), 100);
    let dir = day.paths().dir.clone();
    // Left by a process that died mid-upload: by this version, and by the one before.
    for stale in [
        "flow_scores_fb.csv.upload.999999.0",
        "flow_scores_fb.csv.upload",
    ] {
        std::fs::write(dir.join(stale), b"half a co").expect("stale copy");
    }
    // Held by an upload still running in another process.
    let live = dir.join("flow_scores_fb.csv.upload.888888.0");
    let held = std::fs::File::create(&live).expect("live copy");
    held.lock().expect("lock the live copy");

    let remote = server.path("ml");
    std::fs::create_dir_all(&remote).expect("remote dir");
    let target = server.target(&format!("'{}'", remote.display()));
    upload_day_feedback(&day, &target, &server.options("client_key")).expect("upload");

    assert!(std::fs::read(remote.join("flow_scores.csv")).expect("arrived") == feedback);
    assert_eq!(
        upload_copies(&dir),
        vec!["flow_scores_fb.csv.upload.888888.0".to_string()]
    );
}

#[test]
fn an_scp_without_sftp_mode_sends_by_the_classic_protocol_with_the_path_taken_literally() {
    let server = TestServer::start();
    let local = tempfile::tempdir().expect("temp dir");
    let (feedback, bytes) = feedback_file(local.path());
    let marker = local.path().join("pwned");
    let hostile = format!("$(touch {m}) it's; `touch {m}` | -x", m = marker.display());
    let remote_dir = server.path(&hostile);
    std::fs::create_dir_all(&remote_dir).expect("literal remote dir");
    // In the Spot configuration, the single quote is written the shell's way.
    let quoted = remote_dir.display().to_string().replace('\'', r"'\''");
    let target = server.target(&format!("'{quoted}'"));
    assert_eq!(target.remote_dir, remote_dir.display().to_string());
    let tools = tempfile::tempdir().expect("temp dir");
    let options = ScpOptions {
        program: sshd::old_scp(tools.path()),
        ..server.options("client_key")
    };

    for _ in 0..2 {
        std::fs::remove_file(remote_dir.join("flow_scores.csv")).ok();
        upload_feedback(&feedback, &target, &options).expect("upload through the old scp");
        let arrived = std::fs::read(remote_dir.join("flow_scores.csv")).expect("arrived");
        assert!(arrived == bytes);
    }

    assert!(
        !marker.exists(),
        "the remote shell ran a command from the path"
    );
    let calls = sshd::old_scp_calls(tools.path());
    let asked = calls
        .iter()
        .filter(|call| call.split(' ').any(|a| a == "-s"));
    assert_eq!(asked.count(), 1, "asked once about -s: {calls:#?}");
    assert_eq!(calls.len(), 3, "{calls:#?}");
}
