//! The `relm` binary: parses the command line and runs it; every failure is one line on
//! stderr and a non-zero exit.

mod backtest;
mod bench;
mod cli;
mod output;
mod seed;

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

/// mimalloc rather than the system allocator: glibc's `malloc` and `free` took about a
/// sixth of the read path's CPU, and a key lookup answers about a quarter more requests per
/// second with mimalloc. It is built without transparent huge pages (`no_thp`): it asked the
/// kernel for 2 MiB pages for its arenas, and each one partly used was resident in full,
/// 25 to 45 MiB more in a process with little data (README, "Metrics and performance").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            output::print_out(&err.to_string());
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            let text = err.to_string();
            let first = text.lines().next().unwrap_or_default();
            eprintln!("relm: {}", first.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    match cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let message = format!("{err:#}").replace('\n', " ");
            eprintln!("relm: {message}");
            ExitCode::FAILURE
        }
    }
}
