//! The server binary: reads the configuration, sets up logging, serves.

use anyhow::Context;
use clap::Parser;
use sketchboard::server::{self, Config};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let filter = EnvFilter::try_new(&config.log).context("parsing the log filter (--log / RUST_LOG)")?;
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match config.log_format.as_str() {
        "json" => logs.json().init(),
        _ => logs.init(),
    }
    if config.copy_to_redis {
        let copied = server::copy_to_redis(&config).await?;
        println!(
            "copied {} rooms ({} changes) into Redis and checked them; {} were there already and checked",
            copied.rooms, copied.changes, copied.already
        );
        return Ok(());
    }
    let mut leptos_options = leptos::config::get_configuration(None)
        .context("reading the Leptos configuration (LEPTOS_* variables)")?
        .leptos_options;
    leptos_options.site_addr = config.addr;
    server::start(config, leptos_options).await?.until_signal().await
}
