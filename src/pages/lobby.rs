//! `/`: the lobby. Lists the rooms (shapes, people in them now) and creates or
//! joins a room by name. Rendered on the server; the list is an island that
//! refreshes itself every few seconds in the browser.

use leptos::either::Either;
use leptos::prelude::*;

use sketchboard_core::lobby::LobbyRoom;
use sketchboard_core::model::{MAX_IDENT_LEN, ident_pattern, ident_rule};

/// Rooms with people in them now, then the other most recently changed
/// ones, as the server renders the page (the island below refreshes them
/// from `GET /api/lobby`: a plain fetch, not a server function, whose client
/// would weigh several kilobytes of the room page's bundle).
async fn rooms_now() -> Result<Vec<LobbyRoom>, String> {
    #[cfg(feature = "ssr")]
    {
        let pages = use_context::<crate::server::PageData>().ok_or("server state missing")?;
        pages.rooms().await.map_err(|e| {
            tracing::error!(error = %e, "listing rooms failed");
            "the room list is unavailable right now".to_owned()
        })
    }
    #[cfg(not(feature = "ssr"))]
    Err("the lobby is rendered by the server".to_owned())
}

/// The rooms as `GET /api/lobby` lists them now.
#[cfg(feature = "hydrate")]
async fn fetch_rooms() -> Result<Vec<LobbyRoom>, String> {
    let text = crate::browser::fetching::get("/api/lobby").await?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

#[component]
#[allow(unreachable_pub)] // the macro gives its generated props `pub`
pub fn LobbyPage() -> impl IntoView {
    let rooms = Resource::new(|| (), |_| rooms_now());
    view! {
        <main class="lobby">
            <header class="lobby-head">
                <h1>"Sketchboard"</h1>
                <p class="tagline">"Sketch together in real time. Open a room and share its link."</p>
            </header>
            <form class="new-room" method="get" action="/new">
                <label for="room-name">"Room name"</label>
                <input
                    id="room-name"
                    name="name"
                    maxlength=MAX_IDENT_LEN
                    pattern=ident_pattern()
                    title=ident_rule()
                    placeholder="design-review"
                    autocomplete="off"
                />
                <button type="submit">"Create or join"</button>
                <a class="button secondary" href="/new" rel="external">"New random room"</a>
                <a class="button secondary" href="/new?private=1" rel="external">"New private room"</a>
            </form>
            <RecentRooms />
            <section class="rooms" aria-labelledby="rooms-heading">
                <h2 id="rooms-heading">"Rooms"</h2>
                <Suspense fallback=|| view! { <p>"Loading rooms…"</p> }>
                    {move || Suspend::new(async move {
                        match rooms.await {
                            Ok(list) => Either::Left(view! { <RoomList rooms=list /> }),
                            Err(e) => Either::Right(view! { <p class="error">{e}</p> }),
                        }
                    })}
                </Suspense>
            </section>
        </main>
    }
}

/// "Your recent rooms", from this browser's memory: shown once the page is
/// live (the server cannot know them).
#[island]
#[allow(unreachable_pub)] // the macro gives its generated props `pub`
fn RecentRooms() -> impl IntoView {
    let recent = RwSignal::new(Vec::<(String, String)>::new());
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        recent.set(crate::browser::recent::list().into_iter().map(|r| (r.path, r.label)).collect());
    });
    move || {
        let list = recent.get();
        (!list.is_empty()).then(|| {
            let items =
                list.into_iter().map(|(path, label)| view! { <li><a href=path>{label}</a></li> }).collect_view();
            view! {
                <section class="rooms recent" aria-labelledby="recent-heading">
                    <h2 id="recent-heading">"Your recent rooms"</h2>
                    <ul class="room-list">{items}</ul>
                </section>
            }
        })
    }
}

/// The list itself, an island: it arrives rendered with the page and, in the
/// browser, refreshes itself every few seconds (a failed refresh keeps the
/// last list).
#[island]
#[allow(unreachable_pub)] // the macro gives its generated props `pub`
fn RoomList(rooms: Vec<LobbyRoom>) -> impl IntoView {
    let rooms = RwSignal::new(rooms);
    #[cfg(feature = "hydrate")]
    {
        let refresh = move || {
            leptos::task::spawn_local(async move {
                if let Ok(list) = fetch_rooms().await {
                    rooms.set(list);
                }
            })
        };
        if let Ok(handle) = set_interval_with_handle(refresh, std::time::Duration::from_secs(4)) {
            on_cleanup(move || handle.clear());
        }
    }
    move || {
        let list = rooms.get();
        if list.is_empty() {
            return Either::Left(view! { <p class="empty">"No rooms yet. Create the first one above."</p> });
        }
        let items = list
            .into_iter()
            .map(|r| {
                let href = format!("/r/{}", r.name);
                let shapes = plural(r.shapes, "shape", "shapes");
                let people = plural(u64::from(r.members), "person here", "people here");
                view! {
                    <li>
                        <a href=href>{r.name.to_string()}</a>
                        <span class="meta">{shapes}" · "{people}</span>
                    </li>
                }
            })
            .collect_view();
        Either::Right(view! { <ul class="room-list">{items}</ul> })
    }
}
