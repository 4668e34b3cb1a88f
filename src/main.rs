//! The server binary: reads the configuration, sets up logging, serves.

use anyhow::Context;
use clap::Parser;
use leptos::config::LeptosOptions;
use sketchboard::server::{self, Config};
use sketchboard::site;
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
    let mut leptos_options = site_options()?;
    leptos_options.site_addr = config.addr;
    site::serve(config, leptos_options).await?.until_signal().await
}

/// Where the site's files are and what they are called: the `LEPTOS_*`
/// variables where set, and otherwise what this binary was built with.
///
/// cargo-leptos gives a server it runs these variables itself, but a built
/// server started by hand (the README's run line) has only the ones its user
/// sets. Without `LEPTOS_HASH_FILES` Leptos would name `/pkg/sketchboard.js`,
/// while a build with `hash-files` wrote content-hashed names: every script,
/// the WebAssembly and the style sheet would answer 404. cargo-leptos sets the
/// same variables while compiling this binary, so it knows them.
fn site_options() -> anyhow::Result<LeptosOptions> {
    let mut options = leptos::config::get_configuration(None)
        .context("reading the Leptos configuration (LEPTOS_* variables)")?
        .leptos_options;
    let unset = |name: &str| std::env::var_os(name).is_none();
    if unset("LEPTOS_HASH_FILES") {
        options.hash_files = option_env!("LEPTOS_HASH_FILES") == Some("true");
    }
    if unset("LEPTOS_HASH_FILE_NAME")
        && let Some(name) = option_env!("LEPTOS_HASH_FILE_NAME")
    {
        options.hash_file = name.into();
    }
    if unset("LEPTOS_SITE_ROOT")
        && let Some(root) = option_env!("LEPTOS_SITE_ROOT")
    {
        options.site_root = root.into();
    }
    if options.hash_files {
        // Leptos reads the file beside the binary; without it, pages would name files that do not exist.
        let beside = std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.join(&*options.hash_file)));
        if !beside.as_ref().is_some_and(|path| path.exists()) {
            anyhow::bail!(
                "this server was built with hashed file names, but {} is missing: \
                 keep the binary where `cargo leptos build` put it, with its {} beside it",
                beside.map_or_else(|| options.hash_file.to_string(), |p| p.display().to_string()),
                options.hash_file
            );
        }
    }
    Ok(options)
}
