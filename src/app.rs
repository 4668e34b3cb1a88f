//! The page shell and the routes: `/` is the lobby, `/r/{room}` a room,
//! `/v/{token}` a room by its view-only link, and `…/history` their history.

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{ParamSegment, SsrMode, StaticSegment};

use crate::pages::{LobbyPage, NotFound, RoomPage, ViewPage};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.ico" />
                <AutoReload options=options.clone() />
                // Its name carries its content's hash (see `hash-files` in Cargo.toml).
                <HashedStylesheet id="leptos" options=options.clone() />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Sketchboard" />
        <Router>
            <Routes fallback=NotFound>
                <Route path=StaticSegment("") view=LobbyPage />
                // Async: the board (as SVG) is in the page itself, for no-JavaScript visitors and crawlers.
                <Route path=(StaticSegment("r"), ParamSegment("room")) view=|| view! { <RoomPage /> } ssr=SsrMode::Async />
                // Async: the answer's status (404 for a link that opens nothing) waits for the check.
                <Route path=(StaticSegment("v"), ParamSegment("token")) view=|| view! { <ViewPage /> } ssr=SsrMode::Async />
                <Route
                    path=(StaticSegment("r"), ParamSegment("room"), StaticSegment("history"))
                    view=|| view! { <RoomPage history=true /> }
                    ssr=SsrMode::Async
                />
                <Route
                    path=(StaticSegment("v"), ParamSegment("token"), StaticSegment("history"))
                    view=|| view! { <ViewPage history=true /> }
                    ssr=SsrMode::Async
                />
            </Routes>
        </Router>
    }
}
