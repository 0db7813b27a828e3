//! flow-edge-kernel: a Jupyter kernel for Rust on evcxr, with ipywidgets comms.
//!
//! ```text
//! flow-edge-kernel install [--user | --prefix PREFIX] [--no-warm]
//!                                                       write the kernelspec "flow-edge", then
//!                                                       compile the library into the build cache
//! flow-edge-kernel cache [clear]                        show or clear the build cache
//! flow-edge-kernel run CONNECTION_FILE                  serve a kernel (Jupyter runs this)
//! flow-edge-kernel standby [status]                     warm a kernel for the next notebook
//!                                                       (a kernel starts it), or say how it is
//! ```
//!
//! Two sides meet here (the seam xeus draws):
//!
//! - `protocol`: the server. The five sockets on libzmq, framing, signing and replay checks,
//!   busy/idle, the shell and control loops, history, comms. It knows a language only through
//!   the `interpreter::Interpreter` trait.
//! - `interpreter`: that trait and the values crossing it, and its two implementations:
//!   `interpreter::rust` runs Rust cells on evcxr (the kernel users get), `interpreter::fake`
//!   runs scripted cells (`print hello`, `sleep 2`, `widget ok`) so the protocol's tests
//!   compile nothing. `run --interpreter fake CONNECTION_FILE` selects the fake; it is not in
//!   the usage text because only the tests want it, and `install` never writes it.
//! - `bridge`: the Unix-socket server that carries widget comms between the protocol side and
//!   the widgets library in evcxr's subprocess, in the line format of
//!   `flow_edge_bridge_protocol` (the kernel knows those messages, not the widget controls).
//!
//! Around them: `connection_file` (what Jupyter hands the kernel), `install` (the
//! kernelspec), `build_cache` (evcxr's build folders kept between kernels) and `standby` (a
//! kernel warmed ahead that the next notebook adopts).

mod atomic_file;
mod bridge;
mod build_cache;
mod cache_command;
mod connection_file;
mod install;
mod interpreter;
mod protocol;
mod standby;

use bridge::SocketDir;
use flow_edge_bridge_protocol::wire::BRIDGE_ENV;
use install::Destination;
use interpreter::fake::FakeInterpreter;
use interpreter::rust::{self as rust_interpreter, RustInterpreter};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage:
  flow-edge-kernel install [--user | --prefix PREFIX] [--no-warm]
                                                      install the Jupyter kernelspec \"flow-edge\" and
                                                      warm the build cache (--no-warm: skip)
  flow-edge-kernel cache                              show the build cache: folder, slots, sizes
  flow-edge-kernel cache clear                        remove the slots no kernel is using
  flow-edge-kernel run CONNECTION_FILE                  serve a kernel (started by Jupyter)
  flow-edge-kernel standby                            warm a kernel for the next notebook (a
                                                      kernel starts it; it exits when idle)
  flow-edge-kernel standby status                     say whether a warmed kernel waits

environment:
  FLOW_EDGE_HOME                    workspace root for bare `:dep flow_edge_widgets` / `:dep flow_edge`
  FLOW_EDGE_CALLBACK_TIMEOUT_SECS   how long the kernel waits for a widget callback (default 60)
  FLOW_EDGE_MAX_MESSAGE_BYTES       largest frame or message accepted on the Jupyter sockets
                                    (default 268435456, 256 MiB)
  FLOW_EDGE_BRIDGE_MAX_LINE_BYTES   longest line accepted from the widgets library
                                    (default 67108864, 64 MiB)
  FLOW_EDGE_BRIDGE_WRITE_TIMEOUT_SECS  how long a write to the widgets library may take
                                    (default 10)
  FLOW_EDGE_BUILD_CACHE             the build cache folder (default $XDG_CACHE_HOME/flow-edge/evcxr,
                                    else ~/.cache/flow-edge/evcxr); `off`: a fresh folder per kernel
  FLOW_EDGE_BUILD_CACHE_LIMIT_MIB   the cache's size bound, kept at each kernel start (default 8192)
  EVCXR_TMPDIR                      if set, the kernel builds there instead of in the cache
                                    (and no kernel is warmed ahead)
  FLOW_EDGE_STANDBY                 `off`: no kernel is warmed ahead for the next notebook
  FLOW_EDGE_STANDBY_DELAY_SECS      how long a new standby leaves the CPU to the notebook
                                    being opened before it warms up (default 20)
  FLOW_EDGE_STANDBY_IDLE_SECS       how long a warm standby waits for a notebook (default 3600)
  FLOW_EDGE_STANDBY_DIR             its socket, lock and log (default
                                    $XDG_RUNTIME_DIR/flow-edge-standby)";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Install {
        destination: Destination,
        warm: bool,
    },
    Cache {
        clear: bool,
    },
    Run(PathBuf, Cells),
    Standby {
        status: bool,
    },
    Help,
}

/// Which interpreter runs the cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cells {
    /// Rust on evcxr.
    Rust,
    /// The scripted fake of the kernel's tests.
    Fake,
}

fn parse_arguments(arguments: &[String]) -> Result<Command, String> {
    match arguments {
        [] => Err(String::from("missing command")),
        [help] if help == "--help" || help == "-h" || help == "help" => Ok(Command::Help),
        [install, rest @ ..] if install == "install" => parse_install(rest),
        [cache] if cache == "cache" => Ok(Command::Cache { clear: false }),
        [cache, clear] if cache == "cache" && clear == "clear" => {
            Ok(Command::Cache { clear: true })
        }
        [standby] if standby == "standby" => Ok(Command::Standby { status: false }),
        [standby, status] if standby == "standby" && status == "status" => {
            Ok(Command::Standby { status: true })
        }
        [run, file] if run == "run" => Ok(Command::Run(PathBuf::from(file), Cells::Rust)),
        [run, flag, cells, file] if run == "run" && flag == "--interpreter" => {
            let cells = match cells.as_str() {
                "rust" => Cells::Rust,
                "fake" => Cells::Fake,
                other => return Err(format!("run: unknown interpreter {other:?}")),
            };
            Ok(Command::Run(PathBuf::from(file), cells))
        }
        other => Err(format!("unexpected arguments {other:?}")),
    }
}

fn parse_install(arguments: &[String]) -> Result<Command, String> {
    let no_warm = |flag: &String| flag == "--no-warm";
    let warm = !arguments.iter().any(no_warm);
    let rest: Vec<&String> = arguments.iter().filter(|flag| !no_warm(flag)).collect();
    let destination = match rest.as_slice() {
        [] => Destination::User,
        [user] if *user == "--user" => Destination::User,
        [flag, prefix] if *flag == "--prefix" => Destination::Prefix(PathBuf::from(prefix)),
        other => return Err(format!("install: unexpected arguments {other:?}")),
    };
    Ok(Command::Install { destination, warm })
}

fn main() -> ExitCode {
    // When evcxr starts this binary as its subprocess, this runs the user's code and never
    // returns; it must come before anything else.
    evcxr::runtime_hook();
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match parse_arguments(&arguments) {
        Ok(Command::Help) => {
            println!("{USAGE}");
            Ok(())
        }
        Ok(Command::Install { destination, warm }) => run_install(&destination, warm),
        Ok(Command::Cache { clear: false }) => cache_command::show(),
        Ok(Command::Cache { clear: true }) => cache_command::clear(),
        Ok(Command::Run(connection_file, cells)) => run_kernel(&connection_file, cells),
        Ok(Command::Standby { status: false }) => standby::run_standby(),
        Ok(Command::Standby { status: true }) => standby::show_status(),
        Err(problem) => Err(anyhow::anyhow!("{problem}\n{USAGE}")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("flow-edge-kernel: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_install(destination: &Destination, warm: bool) -> anyhow::Result<()> {
    let binary = std::env::current_exe()?.canonicalize()?;
    let home = rust_interpreter::workspace_root();
    let home = home.canonicalize().unwrap_or(home);
    let dir = install::install(destination, &binary, &home)?;
    println!(
        "Installed kernelspec {} in {}",
        install::KERNEL_NAME,
        dir.display()
    );
    if warm {
        cache_command::warm(&home)?;
    }
    Ok(())
}

fn run_kernel(connection_file: &Path, cells: Cells) -> anyhow::Result<()> {
    // As Jupyter started this process, before any variable is set for evcxr.
    let environment: Vec<_> = std::env::vars_os().collect();
    let (info, connection_text) = connection_file::read(connection_file)?;
    let standby = match cells {
        Cells::Rust => standby::rendezvous_for(&environment).unwrap_or_else(|error| {
            eprintln!("flow-edge-kernel: no kernel warmed ahead: {error:#}");
            None
        }),
        Cells::Fake => None,
    };
    if let Some((_, rendezvous)) = &standby {
        let adopted = standby::try_adopt(rendezvous, &connection_text);
        // After the handoff, whose standby no longer waits: the next notebook's.
        standby::spawn_standby(rendezvous, &environment);
        if let Some(adopted) = adopted {
            return adopted.stand_in();
        }
    }
    // Held until the kernel ends: no other kernel builds in this slot meanwhile. The fake
    // interpreter builds nothing, takes none and loads no compiled cell.
    let _slot = if cells == Cells::Rust {
        rust_interpreter::expose_std_library_to_cells();
        build_cache::take_slot_for_kernel()
    } else {
        None
    };
    let socket_dir = SocketDir::create()?;
    let socket_path = socket_dir.socket_path();
    // Set before evcxr starts its subprocess, which inherits it; no other thread runs yet.
    std::env::set_var(BRIDGE_ENV, &socket_path);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let served = match cells {
        Cells::Rust => {
            let workspace = rust_interpreter::workspace_root();
            runtime.block_on(protocol::serve(info, &socket_path, |sink| {
                RustInterpreter::start(sink, workspace)
            }))
        }
        Cells::Fake => runtime.block_on(protocol::serve(info, &socket_path, |sink| {
            Ok(FakeInterpreter::start(sink, socket_path.clone()))
        })),
    };
    // Worker threads blocked in evcxr must not keep the process alive after shutdown.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    drop(socket_dir);
    served
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(arguments: &[&str]) -> Result<Command, String> {
        let arguments: Vec<String> = arguments.iter().map(|a| (*a).to_owned()).collect();
        parse_arguments(&arguments)
    }

    #[test]
    fn the_command_line_selects_install_destination_or_run_and_its_interpreter() {
        assert_eq!(
            parse(&["install"]),
            Ok(Command::Install {
                destination: Destination::User,
                warm: true
            })
        );
        assert_eq!(
            parse(&["install", "--prefix", "/venv", "--no-warm"]),
            Ok(Command::Install {
                destination: Destination::Prefix("/venv".into()),
                warm: false
            })
        );
        assert_eq!(parse(&["cache"]), Ok(Command::Cache { clear: false }));
        assert_eq!(
            parse(&["cache", "clear"]),
            Ok(Command::Cache { clear: true })
        );
        assert!(parse(&["cache", "purge"]).is_err());
        assert_eq!(
            parse(&["run", "/tmp/k.json"]),
            Ok(Command::Run("/tmp/k.json".into(), Cells::Rust))
        );
        assert_eq!(
            parse(&["run", "--interpreter", "fake", "/tmp/k.json"]),
            Ok(Command::Run("/tmp/k.json".into(), Cells::Fake))
        );
        assert!(parse(&["run", "--interpreter", "python", "/tmp/k.json"]).is_err());
        assert!(parse(&["install", "--system"]).is_err());
        assert!(parse(&[]).is_err());
    }
}
