//! `flow-edge`: the flow scores engine for scripts, cron jobs and people
//! without a notebook. Exit code 0 on success, 1 on bad input or a failed
//! operation (the positioned message on stderr), 2 on a usage error.

mod analysis;
mod args;
mod commands;

use args::{Args, UsageError, USAGE};
use std::process::ExitCode;

/// Why a command failed: the caller's mistake (usage) or the operation's.
pub enum Failure {
    /// Exit code 2.
    Usage(UsageError),
    /// Exit code 1.
    Operation(flow_edge::Error),
    /// Exit code 1: a failure of the rules, heuristics or upload commands, whose errors are
    /// their own types (rules file, network context, Spot configuration, scp).
    Failed(Box<dyn std::error::Error>),
}

impl From<UsageError> for Failure {
    fn from(error: UsageError) -> Failure {
        Failure::Usage(error)
    }
}

impl From<flow_edge::Error> for Failure {
    fn from(error: flow_edge::Error) -> Failure {
        Failure::Operation(error)
    }
}

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let result = match Args::parse(&arguments) {
        Ok(Some(args)) => commands::run(&args),
        Ok(None) => {
            print!("{USAGE}");
            Ok(())
        }
        Err(error) => Err(Failure::Usage(error)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(error)) => {
            eprintln!("flow-edge: {error}");
            ExitCode::from(2)
        }
        Err(Failure::Operation(error)) => {
            eprintln!("flow-edge: {error}");
            ExitCode::from(1)
        }
        Err(Failure::Failed(error)) => {
            eprintln!("flow-edge: {error}");
            ExitCode::from(1)
        }
    }
}
