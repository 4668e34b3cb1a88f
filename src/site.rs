//! The whole site, on the server: the server (`server::start`) with the app's
//! pages (`app::App`, in `shell`) mounted on it. The binary and the
//! integration tests start it here; the server itself knows nothing of the
//! pages but the narrow `PageData` it gives them.

use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};

use crate::app::{App, shell};
use crate::server::{self, AppState, Config, PageData, Running};

/// Starts serving the site (see `server::start`).
pub async fn serve(config: Config, leptos_options: LeptosOptions) -> anyhow::Result<Running> {
    server::start(config, leptos_options, mount_pages).await
}

/// The app's routes, rendered with `PageData` as their context (server
/// functions too), and the site's files for every other path.
fn mount_pages(router: Router<AppState>, state: &AppState, data: PageData) -> Router<AppState> {
    let options = state.leptos_options.clone();
    router
        .leptos_routes_with_context(
            state,
            generate_route_list(App),
            move || provide_context(data.clone()),
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
}
