//! A kernel warmed ahead serves the next notebook: in the notebook's folder, as long as the
//! kernel process Jupyter started lives, and not for a peer that is not a kernel.

mod common;

use common::Kernel;
use jupyter_protocol::{JupyterMessageContent, ShutdownRequest};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The first standby builds the library in a slot of its own: minutes on a cold 2-core CI.
const WARM_UP_TIMEOUT: Duration = Duration::from_secs(600);

/// The environment of every kernel here: standbys on, in a folder of the test's own, warming
/// at once.
fn standby_env(dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("FLOW_EDGE_STANDBY", "on".into()),
        ("FLOW_EDGE_STANDBY_DIR", dir.display().to_string()),
        ("FLOW_EDGE_STANDBY_DELAY_SECS", "0".into()),
        ("FLOW_EDGE_STANDBY_IDLE_SECS", "900".into()),
    ]
}

fn borrowed<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect()
}

/// `flow-edge-kernel standby status` with the kernels' environment.
fn status(env: &[(&'static str, String)]) -> String {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = Command::new(env!("CARGO_BIN_EXE_flow-edge-kernel"))
        .args(["standby", "status"])
        .env("FLOW_EDGE_HOME", workspace.canonicalize().unwrap())
        .env("FLOW_EDGE_BUILD_CACHE", common::test_build_cache())
        .envs(env.iter().map(|(name, value)| (name, value)))
        .output()
        .expect("standby status runs");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// Waits until a standby other than `not` is ready; its pid.
async fn ready_standby(env: &[(&'static str, String)], not: Option<u32>) -> u32 {
    let deadline = Instant::now() + WARM_UP_TIMEOUT;
    loop {
        let text = status(env);
        if let Some(pid) = text
            .strip_prefix("standby: ready (pid ")
            .and_then(|rest| rest.split(')').next())
            .and_then(|pid| pid.parse().ok())
        {
            if Some(pid) != not {
                return pid;
            }
        }
        assert!(Instant::now() < deadline, "no standby ready: {text}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// True while `pid` runs (a zombie waiting for its reaper counts as ended).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat.rsplit(')').next().unwrap_or_default().trim_start();
        !state.starts_with('Z') && !state.starts_with('X')
    })
}

async fn ends_within(pid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if !running(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kernel_warmed_ahead_serves_the_next_notebook_and_ends_with_its_kernel_process() {
    let dir = tempfile::tempdir().unwrap();
    let env = standby_env(&dir.path().join("standby"));

    // A kernel that finds no standby serves its notebook itself and starts one.
    let first = Kernel::start_with_env("standby-first", &borrowed(&env)).await;
    let standby = ready_standby(&env, None).await;
    drop(first);

    // The next kernel, started in the notebook's folder, is served by it: the cells run in
    // the standby's evcxr subprocess, in the notebook's folder, with the library loaded.
    let notebook_dir = tempfile::tempdir().unwrap();
    let folder = notebook_dir.path().canonicalize().unwrap();
    let mut second = Kernel::start_in("standby-second", &borrowed(&env), &folder).await;
    let cell = second
        .execute_ok(
            ":dep flow_edge\nlet none: Option<flow_edge::Day> = None;\n\
             println!(\"{}|{}|{}\", std::env::current_dir().unwrap().display(), \
             std::os::unix::process::parent_id(), none.is_none());",
        )
        .await;
    let printed = cell.stream_text("stdout");
    assert_eq!(
        printed.trim(),
        format!("{}|{standby}|true", folder.display()),
        "log:\n{}",
        second.log()
    );

    // The log the kernel process names on its stderr is the served kernel's.
    let stand_in_says = second.log();
    let served_log = stand_in_says
        .split("its log: ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .unwrap_or_else(|| panic!("no log named: {stand_in_says}"));
    let served_says = std::fs::read_to_string(served_log).unwrap();
    assert!(
        served_says.contains(&format!("serving a notebook in {}", folder.display())),
        "{served_log}: {served_says}"
    );

    // The kernel process replaced the standby it used.
    let next = ready_standby(&env, Some(standby)).await;

    // Shutting the notebook down ends the kernel Jupyter started and the standby serving it.
    let reply = second
        .request_with_timeout(
            ShutdownRequest { restart: false }.into(),
            Duration::from_secs(30),
        )
        .await;
    assert!(
        reply
            .contents()
            .all(|c| !matches!(c, JupyterMessageContent::ErrorOutput(_))),
        "{}",
        second.log()
    );
    assert!(
        second.exited_within(Duration::from_secs(20)).await,
        "{}",
        second.log()
    );
    assert!(ends_within(standby, Duration::from_secs(20)).await);
    drop(second);

    // Peers that are not kernels get nothing and leave the standby waiting: one that says
    // nothing, one that sends an endless line, one that sends a wrong request.
    let socket = ready_socket(dir.path());
    let silent = UnixStream::connect(&socket).unwrap();
    let mut flooder = UnixStream::connect(&socket).unwrap();
    let flood = std::thread::spawn(move || {
        let block = vec![b'x'; 64 * 1024];
        for _ in 0..64 {
            if flooder.write_all(&block).is_err() {
                return;
            }
        }
    });
    let mut liar = UnixStream::connect(&socket).unwrap();
    liar.write_all(b"{\"configuration\":\"x\",\"connection\":\"{}\",\"cwd\":\"/\"}\n")
        .unwrap();
    flood.join().unwrap();
    drop(silent);

    // The next notebook still gets the standby.
    let mut third = Kernel::start_in("standby-third", &borrowed(&env), &folder).await;
    let cell = third
        .execute_ok("println!(\"{}\", std::os::unix::process::parent_id());")
        .await;
    assert_eq!(cell.stream_text("stdout").trim(), next.to_string());

    // Killing the kernel process (as Jupyter does to a kernel that will not stop) ends the
    // standby that served it: the connection between them was its lifeline.
    third.kill();
    assert!(
        ends_within(next, Duration::from_secs(20)).await,
        "{}",
        third.log()
    );

    // A kernel that is told "adopted" but leaves without confirming (it gave up waiting and
    // serves the notebook itself) finds the notebook's ports free: the standby never bound
    // them, and it ends.
    let last = ready_standby(&env, Some(next)).await;
    let socket = ready_socket(dir.path());
    let configuration = socket.file_stem().unwrap().to_str().unwrap().to_owned();
    let ports = jupyter_zmq_client::peek_ports(std::net::IpAddr::from([127, 0, 0, 1]), 5)
        .await
        .unwrap();
    let connection = serde_json::json!({
        "ip": "127.0.0.1", "transport": "tcp", "signature_scheme": "hmac-sha256", "key": "k",
        "shell_port": ports[0], "iopub_port": ports[1], "stdin_port": ports[2],
        "control_port": ports[3], "hb_port": ports[4],
    });
    let request = serde_json::json!({
        "configuration": configuration,
        "connection": connection.to_string(),
        "cwd": folder.display().to_string(),
    });
    let mut quitter = UnixStream::connect(&socket).unwrap();
    writeln!(quitter, "{request}").unwrap();
    let mut reply = String::new();
    BufReader::new(&quitter).read_line(&mut reply).unwrap();
    assert_eq!(reply.trim(), "\"Adopted\"");
    // Time enough for a standby that did not wait for the confirmation to bind them.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for port in ports {
        assert!(
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
            "port {port} was bound before the kernel confirmed"
        );
    }
    drop(quitter);
    assert!(ends_within(last, Duration::from_secs(20)).await);
}

/// The socket of the ready standby in the test's standby folder.
fn ready_socket(base: &Path) -> PathBuf {
    std::fs::read_dir(base.join("standby"))
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|ext| ext == "sock"))
        .expect("the ready standby's socket")
}
