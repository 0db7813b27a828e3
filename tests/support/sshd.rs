//! A real OpenSSH server for the upload tests, started on 127.0.0.1 with keys and
//! configuration in a temporary folder, and an scp that behaves like the one of OpenSSH
//! before 8.7 (no `-s`). Shared by the library's and the command line's upload tests.

// Each test binary uses a part of these helpers.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use flow_edge::spot::conf::SpotConfig;
use flow_edge::spot::upload::{ScpOptions, UploadTarget};

const SSHD: &str = "/usr/sbin/sshd";

/// An sshd of our own: host key, authorized keys and configuration in a temporary folder,
/// killed when dropped.
pub struct TestServer {
    dir: tempfile::TempDir,
    pub port: u16,
    child: Child,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(program: &str, args: &[&str]) {
    let status = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e} (install openssh-client)"));
    assert!(status.success(), "{program} {args:?} failed");
}

fn keygen(path: &Path) {
    let path = path.to_str().expect("utf-8 temp path");
    run(
        "ssh-keygen",
        &["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", path],
    );
}

pub fn current_user() -> String {
    let out = Command::new("id").arg("-un").output().expect("id -un runs");
    String::from_utf8(out.stdout)
        .expect("utf-8 user name")
        .trim()
        .to_string()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}

impl TestServer {
    pub fn start() -> TestServer {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing: install Debian's openssh-server (apt-get install -y openssh-server openssh-client) to run the upload tests"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        // An owned copy of the path, so that `dir` can move into the server when it is up.
        let folder = dir.path().to_path_buf();
        let d = folder.as_path();
        keygen(&d.join("host_key"));
        keygen(&d.join("client_key"));
        keygen(&d.join("stranger_key"));
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).expect("copy key");
        // sshd running as root insists on its privilege separation folder, which the Debian
        // package only creates when the service is started by the init system.
        if current_user() == "root" {
            std::fs::create_dir_all("/run/sshd").expect("create /run/sshd");
        }
        // A free port can be taken by another test between our probe and sshd's bind; sshd
        // then exits, and we try again on another port.
        for _ in 0..5 {
            let port = free_port();
            write_config(d, port);
            let mut child = Command::new(SSHD)
                .arg("-D")
                .arg("-e")
                .arg("-f")
                .arg(d.join("sshd_config"))
                .stdin(Stdio::null())
                .stderr(std::fs::File::create(d.join("sshd.log")).expect("sshd log"))
                .spawn()
                .expect("start sshd");
            if listening(&mut child, port, d) {
                return TestServer { dir, port, child };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "sshd did not start: {}",
            std::fs::read_to_string(d.join("sshd.log")).unwrap_or_default()
        );
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn options(&self, key: &str) -> ScpOptions {
        ScpOptions {
            port: Some(self.port),
            identity_file: Some(self.path(key)),
            known_hosts_file: Some(self.path("known_hosts")),
            ssh_config_file: Some(PathBuf::from("/dev/null")),
            connect_timeout: Duration::from_secs(5),
            ..ScpOptions::default()
        }
    }

    /// The command line's options for the same: port, key, known hosts, no ssh configuration.
    pub fn cli_options(&self, key: &str) -> Vec<String> {
        let path = |name: &str| self.path(name).display().to_string();
        vec![
            "--port".into(),
            self.port.to_string(),
            "--identity".into(),
            path(key),
            "--known-hosts".into(),
            path("known_hosts"),
            "--ssh-config".into(),
            "/dev/null".into(),
        ]
    }

    /// A configuration the way Spot writes it, pointing at this server.
    pub fn target(&self, lpath: &str) -> UploadTarget {
        let text = format!(
            "MLNODE='127.0.0.1'\nLUSER='/home/{user}'\nLPATH={lpath}\n",
            user = current_user()
        );
        let conf = SpotConfig::parse(&text, "duxbay.conf", &[]).expect("valid configuration");
        UploadTarget::from_config(&conf).expect("complete configuration")
    }
}

/// Waits until the sshd `child` has bound `port` (it writes its pid file after binding) and
/// answers there; false if it exited instead.
fn listening(child: &mut Child, port: u16, d: &Path) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return false;
        }
        if d.join("sshd.pid").exists() && TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        assert!(
            Instant::now() < deadline,
            "sshd did not start listening: {}",
            std::fs::read_to_string(d.join("sshd.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// sshd's configuration for `port`, and a known-hosts file holding its host key.
fn write_config(d: &Path, port: u16) {
    let config = format!(
        "Port {port}\nListenAddress 127.0.0.1\nHostKey {host}\nAuthorizedKeysFile {auth}\n\
         PidFile {pid}\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n\
         KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
         PermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\nLogLevel ERROR\n",
        host = d.join("host_key").display(),
        auth = d.join("authorized_keys").display(),
        pid = d.join("sshd.pid").display(),
    );
    std::fs::write(d.join("sshd_config"), config).expect("write sshd_config");
    let host_pub = std::fs::read_to_string(d.join("host_key.pub")).expect("host key");
    std::fs::write(
        d.join("known_hosts"),
        format!("[127.0.0.1]:{port} {host_pub}"),
    )
    .expect("write known_hosts");
}

/// An scp as OpenSSH 7 (RHEL/CentOS 7) has it: `-s` is an unknown option, anything else runs
/// the real scp (`REAL_SCP`) in its classic mode (`-O`). Logs each call's arguments.
const OLD_SCP: &str = r#"#!/bin/sh
echo "$*" >> "$(dirname "$0")/scp.log"
for argument in "$@"; do
  case "$argument" in
    --) break ;;
    -s) echo 'scp: unknown option -- s' >&2
        echo 'usage: scp [-12346BCpqrv] [-c cipher] [-F ssh_config] [-i identity_file]' >&2
        exit 1 ;;
  esac
done
exec REAL_SCP -O "$@"
"#;

/// Writes `dir/scp`, the [`OLD_SCP`] stand-in, so the real sshd still gets the file through
/// it. Every call's arguments are appended to `dir/scp.log`, one line per call.
pub fn old_scp(dir: &Path) -> PathBuf {
    let real = ["/usr/bin/scp", "/bin/scp"]
        .into_iter()
        .find(|path| Path::new(path).exists())
        .expect("scp is installed (openssh-client)");
    let path = dir.join("scp");
    std::fs::write(&path, OLD_SCP.replace("REAL_SCP", real)).expect("write the old scp");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// The calls the [`old_scp`] in `dir` received, one line each.
pub fn old_scp_calls(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("scp.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}
