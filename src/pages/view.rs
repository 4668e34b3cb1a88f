//! `/v/{token}`: a room opened by its view-only link. The page never learns
//! the room's name: it knows the token, and the server maps the token to the
//! room for the WebSocket (`/ws/v/{token}`), which only ever reads.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::message::MessagePage;
use super::picture::{BoardPicture, Preview, board_picture};
use super::room::Room;
use sketchboard_core::model::RoomName;

/// `/v/{token}`, and with `history` `/v/{token}/history`.
#[component]
#[allow(unreachable_pub)] // the macro gives its generated props `pub`
pub fn ViewPage(#[prop(optional)] history: bool) -> impl IntoView {
    let params = use_params_map();
    view! {
        <leptos_meta::Title text="View-only · Sketchboard" />
        <Suspense fallback=|| view! { <p>"Opening…"</p> }>
            {move || {
                let token = params.read_untracked().get("token").unwrap_or_default();
                let picture = board_picture(token.clone(), true);
                Suspend::new(async move { match (picture.await, RoomName::parse(token)) {
                    (Ok(Some(picture)), Ok(room)) => Either::Left(view! {
                        <Preview title="A board on Sketchboard (view-only)".to_owned() image=picture.image />
                        <Room room view=true history>
                            <BoardPicture svg=picture.svg />
                        </Room>
                    }),
                    _ => Either::Right(view! {
                        <MessagePage status=404 title="This link does not open a room">
                            <p>"This view-only link was replaced or never existed. Ask whoever shared it for a new one."</p>
                        </MessagePage>
                    }),
                }})
            }}
        </Suspense>
    }
}
