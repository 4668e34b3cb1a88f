//! `/`: the lobby. Lists the rooms (shapes, people in them now) and creates or
//! joins a room by name. Rendered on the server; after hydration the list
//! refreshes itself every few seconds.

use leptos::either::EitherOf3;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::{MAX_IDENT_LEN, ident_pattern, ident_rule};

/// One line of the lobby's room list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomInfo {
    pub name: String,
    pub shapes: u64,
    pub members: u32,
}

/// Rooms with people in them now, then the other most recently changed ones.
#[server]
pub async fn list_rooms() -> Result<Vec<RoomInfo>, ServerFnError> {
    use crate::server::{AppState, lobby};
    let state = use_context::<AppState>().ok_or_else(|| ServerFnError::new("server state missing"))?;
    let rooms = lobby::rooms(&state).await.map_err(|e| {
        tracing::error!(error = %e, "listing rooms failed");
        ServerFnError::new("the room list is unavailable right now")
    })?;
    let info = |r: lobby::Listing| RoomInfo { name: r.name.to_string(), shapes: r.shapes, members: r.members };
    Ok(rooms.into_iter().map(info).collect())
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

#[component]
pub fn LobbyPage() -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    let rooms = Resource::new(move || refresh.get(), |_| list_rooms());

    #[cfg(feature = "hydrate")]
    {
        let interval = set_interval_with_handle(
            move || refresh.update(|n| *n = n.wrapping_add(1)),
            std::time::Duration::from_secs(4),
        );
        if let Ok(handle) = interval {
            on_cleanup(move || handle.clear());
        }
    }

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
            </form>
            <section class="rooms" aria-labelledby="rooms-heading">
                <h2 id="rooms-heading">"Rooms"</h2>
                <Transition fallback=|| view! { <p>"Loading rooms…"</p> }>
                    {move || {
                        rooms
                            .get()
                            .map(|result| match result {
                                Err(e) => EitherOf3::A(view! { <p class="error">{e.to_string()}</p> }),
                                Ok(list) if list.is_empty() => {
                                    EitherOf3::B(view! { <p class="empty">"No rooms yet. Create the first one above."</p> })
                                }
                                Ok(list) => EitherOf3::C(
                                    view! {
                                        <ul class="room-list">
                                            {list
                                                .into_iter()
                                                .map(|r| {
                                                    let href = format!("/r/{}", r.name);
                                                    let shapes = plural(r.shapes, "shape", "shapes");
                                                    let people = plural(u64::from(r.members), "person here", "people here");
                                                    view! {
                                                        <li>
                                                            <a href=href>{r.name}</a>
                                                            <span class="meta">{shapes}" · "{people}</span>
                                                        </li>
                                                    }
                                                })
                                                .collect_view()}
                                        </ul>
                                    },
                                ),
                            })
                    }}
                </Transition>
            </section>
        </main>
    }
}
