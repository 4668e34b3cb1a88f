//! Making sure no two open pages act as the same client.
//!
//! A tab's client id comes back with a reload (`saved`), so that the server
//! can tell which of its changes it already has. But a tab the browser
//! *duplicates* gets a copy of that storage, id and unsent changes included,
//! and two pages sending under one id would have each other's changes refused
//! as stale. So a page that found a saved id first asks, on a
//! `BroadcastChannel` shared by this browser's pages of the room, whether a
//! live page already uses it; and every live page answers for its own id. If
//! one does, the newcomer starts afresh: a new id, and none of the copied
//! changes (the page they came from still has them, and will send them).

use std::cell::Cell;
use std::rc::Rc;

use gloo_events::EventListener;
use gloo_timers::future::TimeoutFuture;
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use web_sys::{BroadcastChannel, MessageEvent};

use sketchboard_core::model::{ClientId, RoomName, ShapeId};

/// How long a claim waits for an answer. Other pages answer from their event
/// loop at once; a page frozen by the browser would not, and is not waited for.
const CLAIM_WAIT_MS: u32 = 150;

fn channel(room: &RoomName) -> Option<BroadcastChannel> {
    BroadcastChannel::new(&format!("sketchboard:{room}")).ok()
}

fn data(event: &web_sys::Event) -> Option<String> {
    event.dyn_ref::<MessageEvent>()?.data().as_string()
}

/// Whether `client` is free for this page: false if another live page of
/// this browser answered that it is using it.
pub(super) async fn claim(room: &RoomName, client: &ClientId) -> bool {
    let Some(ch) = channel(room) else { return true };
    let taken = Rc::new(Cell::new(false));
    let answer = format!("taken:{client}");
    let heard = taken.clone();
    let _listener = EventListener::new(&ch, "message", move |event| {
        if data(event).as_deref() == Some(answer.as_str()) {
            heard.set(true);
        }
    });
    if ch.post_message(&JsValue::from_str(&format!("who:{client}"))).is_err() {
        return true;
    }
    TimeoutFuture::new(CLAIM_WAIT_MS).await;
    ch.close();
    !taken.get()
}

/// Answers other pages' claims for the id `current` returns, for as long as
/// the returned listener lives.
pub(super) fn answer_claims(
    room: &RoomName,
    current: impl Fn() -> Option<ClientId> + 'static,
) -> Option<EventListener> {
    let ch = channel(room)?;
    let replies = ch.clone();
    Some(EventListener::new(&ch, "message", move |event| {
        let (Some(text), Some(client)) = (data(event), current()) else { return };
        if text.strip_prefix("who:") == Some(client.as_str()) {
            let _ = replies.post_message(&JsValue::from_str(&format!("taken:{client}")));
        }
    }))
}

/// 128 random bits as hex, from the browser's cryptographic generator (which,
/// unlike `crypto.randomUUID`, also works on plain-http LAN addresses).
pub(super) fn random_id() -> String {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !filled {
        for b in &mut bytes {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new shape's id: 128 random bits.
pub(super) fn new_shape_id() -> ShapeId {
    // 32 hex digits always make a valid id (1 to 64 of A-Z a-z 0-9 - _).
    ShapeId::parse(random_id()).expect("32 hex digits are a valid shape id")
}
