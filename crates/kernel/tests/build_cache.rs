//! A user opens notebooks again and again: the kernel keeps evcxr's build folder in a cache
//! slot, so a second open does not compile the library again, a changed library does, two
//! kernels at once never share a folder, and `flow-edge-kernel cache` shows and clears it.

mod common;

use common::{Exchange, Kernel};
use jupyter_protocol::{ConnectionInfo, JupyterMessageContent, Transport};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

const KERNEL: &str = env!("CARGO_BIN_EXE_flow-edge-kernel");

/// A fresh folder for one test's cache (and whatever else it needs).
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("build-cache-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `flow-edge-kernel cache ARGS` against the cache at `root`.
fn cache_command(root: &Path, args: &[&str]) -> String {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(KERNEL)
        .arg("cache")
        .args(args)
        .env("FLOW_EDGE_BUILD_CACHE", root)
        .output()
        .expect("the kernel binary runs");
    assert!(
        status.success(),
        "cache {args:?}: {}",
        String::from_utf8_lossy(&stderr)
    );
    String::from_utf8(stdout).unwrap()
}

/// The slots `cache` lists as in use.
fn slots_in_use(root: &Path) -> Vec<String> {
    cache_command(root, &[])
        .lines()
        .filter(|line| line.starts_with("slot-") && line.contains("in use"))
        .map(|line| line.split_whitespace().next().unwrap().to_owned())
        .collect()
}

/// Polls until `cache` lists `expected` as the slots in use.
fn wait_for_slots_in_use(root: &Path, expected: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let in_use = slots_in_use(root);
        if in_use == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "slots in use: {in_use:?}, expected {expected:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A kernel process started as Jupyter starts it, without a client: enough to hold a slot.
/// Killed when dropped.
struct BareKernel(Child);

impl BareKernel {
    async fn start(dir: &Path, name: &str, env: &[(&str, &str)]) -> BareKernel {
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let ports = jupyter_zmq_client::peek_ports(ip, 5).await.unwrap();
        let info = ConnectionInfo {
            ip: ip.to_string(),
            transport: Transport::TCP,
            shell_port: ports[0],
            iopub_port: ports[1],
            stdin_port: ports[2],
            control_port: ports[3],
            hb_port: ports[4],
            key: format!("key-{name}"),
            signature_scheme: "hmac-sha256".into(),
            kernel_name: Some("flow-edge".into()),
        };
        let file = dir.join(format!("{name}.json"));
        std::fs::write(&file, serde_json::to_string(&info).unwrap()).unwrap();
        let child = Command::new(KERNEL)
            .arg("run")
            .arg(&file)
            .env_remove("EVCXR_TMPDIR")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join(format!("{name}.log"))).unwrap())
            .spawn()
            .unwrap();
        BareKernel(child)
    }
}

impl Drop for BareKernel {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn two_kernels_started_at_once_build_in_different_slots() {
    let dir = scratch("two-at-once");
    let root = dir.join("cache");
    let env = [("FLOW_EDGE_BUILD_CACHE", root.to_str().unwrap())];
    let first = BareKernel::start(&dir, "first", &env).await;
    let second = BareKernel::start(&dir, "second", &env).await;
    wait_for_slots_in_use(&root, &["slot-0", "slot-1"]);
    // Either may have won slot 0; the one left running keeps its own.
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(30);
    while slots_in_use(&root).len() != 1 {
        assert!(Instant::now() < deadline, "{:?}", slots_in_use(&root));
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(second);
    wait_for_slots_in_use(&root, &[]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn cache_clear_removes_idle_slots_and_keeps_the_one_a_kernel_uses() {
    let dir = scratch("clear");
    let root = dir.join("cache");
    std::fs::create_dir_all(root.join("slot-1/target")).unwrap();
    std::fs::write(root.join("slot-1/target/old.rlib"), vec![7u8; 4096]).unwrap();
    let env = [("FLOW_EDGE_BUILD_CACHE", root.to_str().unwrap())];
    let kernel = BareKernel::start(&dir, "busy", &env).await;
    wait_for_slots_in_use(&root, &["slot-0"]);
    let listing = cache_command(&root, &[]);
    assert!(listing.contains("4.0 KiB"), "{listing}");

    let cleared = cache_command(&root, &["clear"]);
    assert!(
        cleared.contains("slot-0: in use by a kernel, kept"),
        "{cleared}"
    );
    assert!(cleared.contains("slot-1: cleared (4.0 KiB)"), "{cleared}");
    assert!(root.join("slot-0").is_dir());
    assert!(!root.join("slot-1").exists());
    drop(kernel);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_cache_over_its_bound_loses_its_idle_slots_when_a_kernel_starts() {
    let dir = scratch("bound");
    let root = dir.join("cache");
    std::fs::create_dir_all(root.join("slot-2")).unwrap();
    std::fs::write(root.join("slot-2/big"), vec![0u8; 3 << 20]).unwrap();
    let env = [
        ("FLOW_EDGE_BUILD_CACHE", root.to_str().unwrap()),
        ("FLOW_EDGE_BUILD_CACHE_LIMIT_MIB", "1"),
    ];
    let kernel = BareKernel::start(&dir, "bounded", &env).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while root.join("slot-2").exists() {
        assert!(
            Instant::now() < deadline,
            "slot-2 is still there over the bound"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(root.join("slot-0").is_dir(), "the kernel's own slot stays");
    drop(kernel);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_kernel_given_evcxr_tmpdir_builds_there_and_takes_no_slot() {
    let dir = scratch("explicit");
    let root = dir.join("cache");
    let chosen = dir.join("chosen");
    std::fs::create_dir_all(&chosen).unwrap();
    let env = [
        ("FLOW_EDGE_BUILD_CACHE", root.to_str().unwrap()),
        ("EVCXR_TMPDIR", chosen.to_str().unwrap()),
    ];
    let kernel = BareKernel::start(&dir, "explicit", &env).await;
    // evcxr writes its crate's Cargo.toml where it builds.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !chosen.join("Cargo.toml").exists() {
        assert!(
            Instant::now() < deadline,
            "evcxr did not build in EVCXR_TMPDIR"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(slots_in_use(&root), Vec::<String>::new());
    assert!(!root.join("slot-0").exists());
    drop(kernel);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A library crate of the user's, `:dep`'ed by path.
fn write_probe_crate(dir: &Path, answer: u32) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"probe\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("src/lib.rs"),
        format!("pub fn answer() -> u32 {{ {answer} }}\n"),
    )
    .unwrap();
}

/// The probe library's compiled files in the cache, with their modification times.
fn probe_builds(root: &Path) -> Vec<(PathBuf, SystemTime)> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                pending.push(path);
            } else if name.starts_with("libprobe-") && name.ends_with(".rlib") {
                found.push((path, entry.metadata().unwrap().modified().unwrap()));
            }
        }
    }
    found.sort();
    found
}

fn plain_result(exchange: &Exchange) -> String {
    exchange
        .contents()
        .find_map(|content| match content {
            JupyterMessageContent::ExecuteResult(result) => {
                let data = serde_json::to_value(&result.data).ok()?;
                data["text/plain"].as_str().map(str::to_owned)
            }
            _ => None,
        })
        .unwrap_or_default()
}

/// Opens a kernel on the cache at `root`, runs the probe's cell, returns its answer.
async fn open_and_ask(root: &Path, probe: &Path) -> String {
    let env = [
        ("FLOW_EDGE_BUILD_CACHE", root.to_str().unwrap()),
        ("EVCXR_TMPDIR", ""),
    ];
    let mut kernel = Kernel::start_with_env("build-cache-reuse", &env).await;
    let cell = format!(
        ":dep probe = {{ path = {:?} }}\nprobe::answer()",
        probe.to_str().unwrap()
    );
    let answer = plain_result(&kernel.execute_ok(&cell).await);
    drop(kernel);
    answer
}

#[tokio::test]
async fn a_second_open_reuses_the_build_and_a_changed_library_is_rebuilt() {
    let dir = scratch("reuse");
    let root = dir.join("cache");
    let probe = dir.join("probe");
    write_probe_crate(&probe, 41);

    assert_eq!(open_and_ask(&root, &probe).await, "41");
    let first = probe_builds(&root);
    assert_eq!(
        first.len(),
        1,
        "one build of the probe in the cache: {first:?}"
    );

    assert_eq!(open_and_ask(&root, &probe).await, "41");
    assert_eq!(
        probe_builds(&root),
        first,
        "an unchanged library was rebuilt"
    );

    write_probe_crate(&probe, 42);
    assert_eq!(open_and_ask(&root, &probe).await, "42");
    let rebuilt = probe_builds(&root);
    assert_eq!(rebuilt.len(), 1, "{rebuilt:?}");
    assert!(
        rebuilt[0].1 > first[0].1,
        "the changed library was not rebuilt"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The folder just below `/` that holds the Rust toolchain (`/root`, `/home`, `/usr`…).
fn toolchain_top_folder() -> PathBuf {
    let output = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .unwrap();
    let sysroot = PathBuf::from(String::from_utf8(output.stdout).unwrap().trim());
    sysroot.iter().take(2).collect()
}

/// A user's cache lives in their home, beside rustup. The kernel's cells load Rust's shared
/// standard library there too (rustc's relative `RUNPATH` in each cell used to point one
/// folder too high, which only a build folder under another top folder such as `/tmp` hid).
#[tokio::test]
async fn a_cache_beside_the_toolchain_runs_cells() {
    let top = toolchain_top_folder();
    let Ok(dir) = tempfile::Builder::new()
        .prefix(".flow-edge-build-cache-test-")
        .tempdir_in(&top)
    else {
        eprintln!("{} is not writable here: nothing to check", top.display());
        return;
    };
    let root = dir.path().join("cache");
    let env = [
        ("FLOW_EDGE_BUILD_CACHE", root.to_str().unwrap()),
        ("EVCXR_TMPDIR", ""),
        // As Jupyter started from a login shell: `cargo test` puts the toolchain's library
        // folder here for its test binaries, which would hide a kernel that does not.
        ("LD_LIBRARY_PATH", ""),
    ];
    let mut kernel = Kernel::start_with_env("build-cache-home", &env).await;
    let answer = plain_result(&kernel.execute_ok("40 + 2").await);
    drop(kernel);
    assert_eq!(answer, "42");
    assert!(
        root.join("slot-0/target").is_dir(),
        "the kernel did not build in the cache"
    );
}
