//! A Jupyter client for the integration tests: starts the real kernel binary with a
//! generated connection file and talks to it over ZeroMQ.
//!
//! [`Kernel::start`] serves Rust cells on evcxr; [`Kernel::start_fake`] serves the scripted
//! fake interpreter (`run --interpreter fake`), for tests of the protocol side that must not
//! wait for rustc.
// Each test binary includes this module and uses only part of it.
#![allow(dead_code)]

pub mod widgets;

use jupyter_protocol::{
    ConnectionInfo, ExecuteRequest, ExecutionState, JupyterMessage, JupyterMessageContent,
    KernelInfoRequest, Transport,
};
use jupyter_zmq_client::{ClientControlConnection, ClientIoPubConnection, ClientShellConnection};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Cells that compile crates (`:dep`) can take a while on a busy 2-core machine.
pub const CELL_TIMEOUT: Duration = Duration::from_secs(300);

/// Kernels of one test binary run one at a time: each starts evcxr and compiles.
static ONE_KERNEL_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The build cache the tests' kernels share: warm across test binaries and runs, in the
/// target folder, away from the user's own cache.
pub fn test_build_cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("build-cache")
}

/// A message received on iopub, with when it arrived.
pub struct Received {
    pub message: JupyterMessage,
    pub at: Instant,
}

/// What one request produced: the shell reply and the iopub messages parented to it,
/// up to and including `idle`.
pub struct Exchange {
    pub reply: Option<JupyterMessage>,
    pub iopub: Vec<Received>,
}

impl Exchange {
    pub fn contents(
        &self,
    ) -> impl DoubleEndedIterator<Item = &JupyterMessageContent> + ExactSizeIterator {
        self.iopub.iter().map(|received| &received.message.content)
    }

    /// Concatenated text of the stream `name` ("stdout" or "stderr").
    pub fn stream_text(&self, name: &str) -> String {
        self.contents()
            .filter_map(|content| match content {
                JupyterMessageContent::StreamContent(stream) => {
                    let stream_name = serde_json::to_value(&stream.name).ok()?;
                    (stream_name == name).then(|| stream.text.clone())
                }
                _ => None,
            })
            .collect()
    }

    pub fn reply_json(&self) -> serde_json::Value {
        let reply = self.reply.as_ref().expect("a reply");
        serde_json::to_value(&reply.content).expect("reply serializes")
    }
}

/// The kernel process and the client's sockets.
pub struct Kernel {
    child: Child,
    pub info: ConnectionInfo,
    pub shell: ClientShellConnection,
    pub control: ClientControlConnection,
    pub iopub: ClientIoPubConnection,
    dir: PathBuf,
    _serial: tokio::sync::MutexGuard<'static, ()>,
}

impl Kernel {
    /// Starts the kernel binary and waits until it answers `kernel_info` with iopub flowing.
    pub async fn start(name: &str) -> Kernel {
        Kernel::start_with_env(name, &[]).await
    }

    /// Like [`Kernel::start`], with extra environment variables for the kernel process.
    pub async fn start_with_env(name: &str, env: &[(&str, &str)]) -> Kernel {
        Kernel::start_configured(name, env, test_key(name), Interpreter::Rust, None).await
    }

    /// Like [`Kernel::start_with_env`], started in `folder` (as Jupyter starts a kernel in
    /// its notebook's folder).
    pub async fn start_in(name: &str, env: &[(&str, &str)], folder: &std::path::Path) -> Kernel {
        Kernel::start_configured(name, env, test_key(name), Interpreter::Rust, Some(folder)).await
    }

    /// Like [`Kernel::start`], with an empty key in the connection file: nothing is signed.
    pub async fn start_unsigned(name: &str) -> Kernel {
        Kernel::start_configured(name, &[], String::new(), Interpreter::Rust, None).await
    }

    /// A kernel whose cells are the fake interpreter's scripts (`print hello`, `widget ok`):
    /// ready in well under a second, since nothing is compiled.
    pub async fn start_fake(name: &str) -> Kernel {
        Kernel::start_configured(name, &[], test_key(name), Interpreter::Fake, None).await
    }

    async fn start_configured(
        name: &str,
        env: &[(&str, &str)],
        key: String,
        interpreter: Interpreter,
        folder: Option<&std::path::Path>,
    ) -> Kernel {
        let serial = ONE_KERNEL_AT_A_TIME.lock().await;
        let dir = std::env::temp_dir().join(format!(
            "flow-edge-kernel-test-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("test dir");
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let ports = jupyter_zmq_client::peek_ports(ip, 5)
            .await
            .expect("free ports");
        let info = ConnectionInfo {
            ip: ip.to_string(),
            transport: Transport::TCP,
            shell_port: ports[0],
            iopub_port: ports[1],
            stdin_port: ports[2],
            control_port: ports[3],
            hb_port: ports[4],
            key,
            signature_scheme: "hmac-sha256".into(),
            kernel_name: Some("flow-edge".into()),
        };
        let connection_file = dir.join("connection.json");
        std::fs::write(&connection_file, serde_json::to_string(&info).unwrap()).unwrap();
        let log = std::fs::File::create(dir.join("kernel.log")).unwrap();
        let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut command = Command::new(env!("CARGO_BIN_EXE_flow-edge-kernel"));
        if let Some(folder) = folder {
            command.current_dir(folder);
        }
        let child = command
            .arg("run")
            .args(interpreter.arguments())
            .arg(&connection_file)
            .env("FLOW_EDGE_HOME", workspace.canonicalize().unwrap())
            // The tests' own build cache, never the user's; a test may name another.
            .env("FLOW_EDGE_BUILD_CACHE", test_build_cache())
            // No kernel warmed ahead unless a test asks for one (tests/standby.rs).
            .env("FLOW_EDGE_STANDBY", "off")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("kernel binary starts");
        let session = format!("client-{name}");
        let identity = jupyter_zmq_client::peer_identity_for_session(&session).unwrap();
        let shell = jupyter_zmq_client::create_client_shell_connection_with_identity(
            &info, &session, identity,
        )
        .await
        .unwrap();
        let control = jupyter_zmq_client::create_client_control_connection(&info, &session)
            .await
            .unwrap();
        let iopub = jupyter_zmq_client::create_client_iopub_connection(&info, "", &session)
            .await
            .unwrap();
        let mut kernel = Kernel {
            child,
            info,
            shell,
            control,
            iopub,
            dir,
            _serial: serial,
        };
        kernel.wait_until_ready().await;
        kernel
    }

    /// Sends `kernel_info` until a reply arrives and its `idle` shows up on iopub (a SUB
    /// socket misses what is published before its subscription is in place).
    async fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let exchange = self
                .request_with_timeout(KernelInfoRequest {}.into(), Duration::from_secs(3))
                .await;
            if exchange.reply.is_some() && exchange.iopub.iter().any(|r| is_idle(&r.message)) {
                return;
            }
        }
        panic!("kernel did not become ready; log:\n{}", self.log());
    }

    /// Waits up to `timeout` for the kernel process to exit; true if it did.
    pub async fn exited_within(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// Kills the kernel process with SIGKILL, as Jupyter does to a kernel that does not stop.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The kernel process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// True while the kernel process runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The kernel process's resident memory, in bytes (from /proc).
    pub fn resident_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("the kernel's /proc status");
        let kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc status");
        kib * 1024
    }

    /// The path of the widget bridge socket, as cell code sees it in `FLOW_EDGE_BRIDGE`.
    pub async fn bridge_path(&mut self) -> PathBuf {
        let cell = self
            .execute_ok("println!(\"{}\", std::env::var(\"FLOW_EDGE_BRIDGE\").unwrap());")
            .await;
        PathBuf::from(cell.stream_text("stdout").trim())
    }

    /// Reads iopub until a message satisfies `wanted`, whatever its parent; None on timeout.
    pub async fn wait_for_iopub(
        &mut self,
        wanted: impl Fn(&JupyterMessage) -> bool,
        timeout: Duration,
    ) -> Option<JupyterMessage> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.iopub.read()).await {
                Err(_) => return None,
                Ok(Ok(message)) if wanted(&message) => return Some(message),
                Ok(_) => {}
            }
        }
    }

    /// The kernel's stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("kernel.log")).unwrap_or_default()
    }

    pub async fn execute(&mut self, code: &str) -> Exchange {
        let exchange = self
            .request_with_timeout(ExecuteRequest::new(code.into()).into(), CELL_TIMEOUT)
            .await;
        assert!(
            exchange.reply.is_some(),
            "no reply to {code:?}; log:\n{}",
            self.log()
        );
        exchange
    }

    /// Executes `code` and asserts the cell succeeded, showing the reply and the kernel log
    /// when it did not.
    pub async fn execute_ok(&mut self, code: &str) -> Exchange {
        let exchange = self.execute(code).await;
        assert_eq!(
            exchange.reply_json()["status"],
            "ok",
            "{code:?} failed: {}\nlog:\n{}",
            exchange.reply_json(),
            self.log()
        );
        exchange
    }

    /// Sends `message` on shell, then collects its reply (if it has one) and its iopub
    /// messages until `idle`, or until `timeout`.
    pub async fn request_with_timeout(
        &mut self,
        message: JupyterMessage,
        timeout: Duration,
    ) -> Exchange {
        let msg_id = message.header.msg_id.clone();
        self.shell.send(message).await.expect("shell send");
        self.collect(&msg_id, true, timeout).await
    }

    /// Sends `message` on shell when it expects no reply (comm messages).
    pub async fn send_comm(&mut self, message: JupyterMessage, timeout: Duration) -> Exchange {
        let msg_id = message.header.msg_id.clone();
        self.shell.send(message).await.expect("shell send");
        self.collect(&msg_id, false, timeout).await
    }

    /// Reads iopub until a stream message of request `msg_id` arrives; false on timeout.
    pub async fn collect_until_stream(&mut self, msg_id: &str, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let next = tokio::time::timeout_at(deadline, self.iopub.read()).await;
            match next {
                Err(_) => return false,
                Ok(Ok(message)) => {
                    if parent_id(&message) == Some(msg_id)
                        && matches!(message.content, JupyterMessageContent::StreamContent(_))
                    {
                        return true;
                    }
                }
                Ok(Err(_)) => {}
            }
        }
    }

    /// Collects what belongs to request `msg_id`.
    pub async fn collect(
        &mut self,
        msg_id: &str,
        wants_reply: bool,
        timeout: Duration,
    ) -> Exchange {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut exchange = Exchange {
            reply: None,
            iopub: Vec::new(),
        };
        let mut idle = false;
        while !(idle && (exchange.reply.is_some() || !wants_reply)) {
            tokio::select! {
                message = self.iopub.read() => {
                    let Ok(message) = message else { continue };
                    if parent_id(&message) == Some(msg_id) {
                        idle = is_idle(&message);
                        exchange.iopub.push(Received { message, at: Instant::now() });
                    }
                }
                reply = self.shell.read(), if wants_reply && exchange.reply.is_none() => {
                    if let Ok(reply) = reply {
                        if parent_id(&reply) == Some(msg_id) {
                            exchange.reply = Some(reply);
                        }
                    }
                }
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
        exchange
    }
}

/// Which interpreter the kernel under test serves.
enum Interpreter {
    Rust,
    Fake,
}

impl Interpreter {
    /// The arguments of `run` that select it (evcxr is the default).
    fn arguments(&self) -> &'static [&'static str] {
        match self {
            Interpreter::Rust => &[],
            Interpreter::Fake => &["--interpreter", "fake"],
        }
    }
}

fn test_key(name: &str) -> String {
    format!("test-key-{name}-{}", std::process::id())
}

impl Drop for Kernel {
    /// Stops the kernel the way Jupyter does when a shutdown request goes unanswered: SIGTERM,
    /// which lets it remove evcxr's build directory, then SIGKILL if it lingers.
    fn drop(&mut self) {
        let terminated = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|status| status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        while terminated && Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn parent_id(message: &JupyterMessage) -> Option<&str> {
    message
        .parent_header
        .as_ref()
        .map(|header| header.msg_id.as_str())
}

/// The text of a stream message, if it is one.
pub fn stream_text(message: &JupyterMessage) -> Option<&str> {
    match &message.content {
        JupyterMessageContent::StreamContent(stream) => Some(&stream.text),
        _ => None,
    }
}

pub fn is_idle(message: &JupyterMessage) -> bool {
    matches!(&message.content, JupyterMessageContent::Status(status)
        if status.execution_state == ExecutionState::Idle)
}

/// Index of the first iopub message satisfying `predicate`.
pub fn position(
    exchange: &Exchange,
    predicate: impl Fn(&JupyterMessageContent) -> bool,
) -> Option<usize> {
    exchange.contents().position(predicate)
}
