//! The load generator's command line: `loadgen --help`, and docs/benchmarks.md
//! for the method and the commands. The work is in the library beside it.

use anyhow::Context;
use clap::Parser;
use sketchboard_loadgen::{self as loadgen, Args, Report};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&args.log).context("parsing the log filter (--log / RUST_LOG)")?)
        .with_writer(std::io::stderr)
        .init();
    // Thousands of sockets need more than the usual soft limit of 1,024 files;
    // the hard limit is as far as a process may raise its own.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open-file limit"),
        Err(e) => tracing::warn!(error = %e, "could not raise the open-file limit; run `ulimit -n 65536` first"),
    }
    let report = loadgen::run(&args.run(), &args.scenario).await?;
    if args.json {
        println!("{}", report.to_json());
    } else {
        println!("{}\n{}", Report::HEADER, report.row());
    }
    Ok(())
}
