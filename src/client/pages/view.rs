//! `/v/{token}`: a room opened by its view-only link. The page never learns
//! the room's name: it knows the token, and the server maps the token to the
//! room for the WebSocket (`/ws/v/{token}`), which only ever reads.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::message::MessagePage;
use super::room::Room;
use crate::model::RoomName;

/// Whether `token` opens a room.
#[server]
pub async fn view_opens(token: String) -> Result<bool, ServerFnError> {
    use crate::server::AppState;
    let state = use_context::<AppState>().ok_or_else(|| ServerFnError::new("server state missing"))?;
    match crate::server::room_for_token(&state, &token).await {
        Ok(room) => Ok(room.is_some()),
        Err(_) => Err(ServerFnError::new("room access is unavailable right now")),
    }
}

#[component]
pub fn ViewPage() -> impl IntoView {
    let params = use_params_map();
    let token = params.read_untracked().get("token").unwrap_or_default();
    let opens = Resource::new(move || token.clone(), view_opens);
    view! {
        <leptos_meta::Title text="View-only · Sketchboard" />
        <Suspense fallback=|| view! { <p>"Opening…"</p> }>
            {move || Suspend::new(async move {
                let token = params.read_untracked().get("token").unwrap_or_default();
                match (opens.await, RoomName::parse(token)) {
                    (Ok(true), Ok(room)) => Either::Left(view! { <Room room view=true /> }),
                    _ => Either::Right(view! {
                        <MessagePage status=404 title="This link does not open a room">
                            <p>"This view-only link was replaced or never existed. Ask whoever shared it for a new one."</p>
                        </MessagePage>
                    }),
                }
            })}
        </Suspense>
    }
}
