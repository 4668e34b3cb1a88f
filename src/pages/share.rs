//! The Share dialog: the room's edit link and its view-only link, each with
//! a copy button, and **Replace view-only link** (the old link stops working
//! at once and its viewers are closed; see `server/sharing.rs`).

use leptos::prelude::*;

use sketchboard_core::model::RoomName;

#[component]
#[allow(unreachable_pub)] // the macro gives its generated props `pub`
pub(super) fn Share(room: RoomName) -> impl IntoView {
    let open = RwSignal::new(false);
    let edit_link = RwSignal::new(String::new());
    let view_link = RwSignal::new(String::new());
    // What the last action did ("Copied", or what went wrong), for everyone to read.
    let note = RwSignal::new(String::new());

    let load = move |replace: bool| {
        #[cfg(feature = "hydrate")]
        {
            let room = room.clone();
            leptos::task::spawn_local(async move {
                match crate::browser::share_link::view_link(&room, replace).await {
                    Ok((edit, view)) => {
                        edit_link.set(edit);
                        view_link.set(view);
                        note.set(if replace {
                            "A new view-only link: the old one no longer works.".into()
                        } else {
                            String::new()
                        });
                    }
                    Err(e) => note.set(format!("The view-only link is unavailable: {e}")),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (replace, &room);
    };
    let load_on_open = load.clone();
    let copy = move |link: RwSignal<String>| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            note.set(if crate::browser::share_link::copy(&link.get_untracked()).await {
                "Copied.".into()
            } else {
                "Could not copy: select the link and copy it.".into()
            });
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = link;
    };

    view! {
        <button
            type="button"
            class="tool"
            aria-haspopup="dialog"
            on:click=move |_| {
                open.set(true);
                load_on_open(false);
            }
        >
            "Share"
        </button>
        <div class="share" role="dialog" aria-label="Share this room" hidden=move || !open.get()>
            <label>"Edit link" <input readonly prop:value=move || edit_link.get() /></label>
            <button type="button" class="tool" on:click=move |_| copy(edit_link)>"Copy edit link"</button>
            <label>"View-only link" <input readonly prop:value=move || view_link.get() /></label>
            <button type="button" class="tool" on:click=move |_| copy(view_link)>"Copy view-only link"</button>
            <button type="button" class="tool danger" on:click=move |_| load(true)>"Replace view-only link"</button>
            <p class="share-note" aria-live="polite">{move || note.get()}</p>
            <button type="button" class="tool" on:click=move |_| open.set(false)>"Close"</button>
        </div>
    }
}
