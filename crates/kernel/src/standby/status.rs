//! `flow-edge-kernel standby status`: whether a standby waits, for this environment and others.

use super::rendezvous::StandbyState;

/// Prints the state of this environment's standby and lists the living standbys of other
/// environments in the same folder (Jupyter's kernels have the server's environment, not the
/// shell's that asks).
pub fn show() -> anyhow::Result<()> {
    let environment: Vec<_> = std::env::vars_os().collect();
    let Some((_, rendezvous)) = super::rendezvous_for(&environment)? else {
        println!("standby off (FLOW_EDGE_STANDBY=off)");
        return Ok(());
    };
    println!("standby: {}", describe(rendezvous.state()));
    println!("log: {}", rendezvous.log_path().display());
    let living: Vec<_> = rendezvous
        .others()
        .into_iter()
        .filter(|other| other.state() != StandbyState::None)
        .collect();
    if !living.is_empty() {
        println!(
            "standbys of other environments in {} (Jupyter's kernels have the server's):",
            rendezvous.dir().display()
        );
        for other in living {
            println!(
                "  {}: {}, log {}",
                other.fingerprint(),
                describe(other.state()),
                other.log_path().display()
            );
        }
    }
    Ok(())
}

fn describe(state: StandbyState) -> String {
    match state {
        StandbyState::None => String::from("none"),
        StandbyState::Warming(pid) => format!("warming (pid {pid})"),
        StandbyState::Ready(pid) => format!("ready (pid {pid})"),
    }
}
