//! `/r/{room}`: a room. The page (toolbar, status, canvas, the canvas's text
//! alternative) renders on the server; the `Room` island comes alive in the
//! browser, where a `LiveBoard` takes over drawing, input and the connection
//! and reports back through the signals in `BoardUi`. The title and the
//! invalid-name page are the server's alone (not in the bundle).

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::history::{HistoryPanel, Replay};
use super::message::MessagePage;
use super::picture::{BoardPicture, Preview, board_picture};
use super::share::Share;
use super::tools::{Action, add_row, tool_row};
use crate::board_ui::{BoardUi, ConnStatus};
use sketchboard_core::model::{Color, RoomName, TextSize};
use sketchboard_core::presence::MAX_NAME_CHARS;

/// `/r/{room}`, and with `history` `/r/{room}/history`.
#[component]
#[allow(unreachable_pub)] // the macro gives its generated props `pub`
pub fn RoomPage(#[prop(optional)] history: bool) -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("room").unwrap_or_default();
    // Re-run when the address changes, so each room gets its own board.
    move || match RoomName::parse(name()) {
        // `Either`, not `into_any`: type-erased views cost the bundle dearly.
        Ok(room) => Either::Left({
            let picture = board_picture(room.to_string(), false);
            view! {
                <leptos_meta::Title text=format!("{room} · Sketchboard") />
                // Waited for (the route is async), so the board is in the HTML itself.
                <Suspense fallback=|| ()>
                    {Suspend::new(async move {
                        let picture = picture.await.ok().flatten().unwrap_or_default();
                        view! {
                            <Preview title=format!("{room} · Sketchboard") image=picture.image />
                            <Room room=room.clone() view=false history>
                                <BoardPicture svg=picture.svg />
                            </Room>
                            <noscript>
                                <p class="hint">"The board as it was when this page loaded. Editing and live changes need JavaScript."</p>
                            </noscript>
                        }
                    })}
                </Suspense>
            }
        }),
        Err(e) => Either::Right(view! { <BadRoomName name=name() reason=e.to_string() /> }),
    }
}

#[component]
#[allow(unreachable_pub)] // the macro gives its generated props `pub`
fn BadRoomName(name: String, reason: String) -> impl IntoView {
    view! {
        <MessagePage status=400 title="Invalid room name">
            <p>"“" {name} "” is not a room name: a room name " {reason} "."</p>
        </MessagePage>
    }
}

/// The live room: everything on the page that the browser runs. With
/// `view`, `room` is a view-only token: the board, pointers and people, and
/// no editing controls (the server refuses changes from it anyway).
#[island]
#[allow(unreachable_pub)] // the macro gives its generated props `pub`
pub(super) fn Room(room: RoomName, view: bool, history: bool, children: Children) -> impl IntoView {
    let ui = BoardUi::new();
    let canvas = NodeRef::<leptos::html::Canvas>::new();

    // The live board exists only in the browser; `act` is a no-op on the server,
    // where no button can be pressed anyway.
    #[cfg(feature = "hydrate")]
    let live = {
        use std::rc::Rc;

        use crate::browser::live_board::LiveBoard;
        let live = StoredValue::new_local(None::<Rc<LiveBoard>>);
        let room = room.clone();
        Effect::new(move |_| {
            if let Some(el) = canvas.get()
                && live.with_value(Option::is_none)
            {
                match LiveBoard::start(room.clone(), el, ui, view) {
                    Ok(board) => {
                        if history {
                            board.look_back();
                        }
                        live.set_value(Some(board));
                        let (path, label) = if view {
                            (format!("/v/{room}"), "A view-only room".to_owned())
                        } else {
                            (format!("/r/{room}"), room.to_string())
                        };
                        crate::browser::recent::remember(path, label);
                    }
                    Err(e) => leptos::logging::error!("could not start the board: {e:?}"),
                }
            }
        });
        on_cleanup(move || {
            if let Some(Some(board)) = live.try_update_value(Option::take) {
                board.stop();
            }
        });
        live
    };
    let act = move |action: Action| {
        #[cfg(feature = "hydrate")]
        live.with_value(|board| {
            if let Some(board) = board {
                use sketchboard_core::editor::Stack;
                match action {
                    Action::Add(kind) => board.add_shape(kind),
                    Action::Text => board.take_text_tool(),
                    Action::DeleteSelected => {
                        board.delete_selected();
                    }
                    Action::Paint(color) => board.set_color(color),
                    Action::TextSize(size) => board.set_text_size(size),
                    Action::ToFront => {
                        board.restack(Stack::ToFront);
                    }
                    Action::ToBack => {
                        board.restack(Stack::ToBack);
                    }
                    Action::Undo => {
                        board.undo();
                    }
                    Action::Redo => {
                        board.redo();
                    }
                }
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = action;
    };

    // A file chosen with Import (dropping one on the board is the live board's own).
    let import = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                live.with_value(|board| {
                    if let Some(board) = board {
                        board.import_file(file);
                    }
                });
            }
            // The same file may be chosen again.
            input.set_value("");
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };

    // The history panel's requests to the live board (see `history`).
    let replay = Callback::new(move |asked: Replay| {
        #[cfg(feature = "hydrate")]
        return live.with_value(|board| match (board, asked) {
            (Some(board), Replay::Show(version)) => {
                board.show_version(Some(version));
                true
            }
            (Some(board), Replay::Restore) => board.restore(),
            (None, _) => false,
        });
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = asked;
            false
        }
    });

    // Once connected, the canvas shows the board: the server's picture goes for good.
    let live_once = RwSignal::new(false);
    Effect::new(move |_| {
        if ui.status.get() == ConnStatus::Connected {
            live_once.set(true);
        }
    });

    // Counted from the people list (a person with two tabs is one), and only
    // while connected: offline, it would be stale.
    let people = move || match ui.people.with(Vec::len) {
        _ if ui.status.get() != ConnStatus::Connected => String::new(),
        0 => String::new(),
        1 => "Just you here".to_owned(),
        n => format!("{n} people here"),
    };
    let rename = move |text: String| {
        #[cfg(feature = "hydrate")]
        live.with_value(|board| {
            if let Some(board) = board {
                board.rename(&text);
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = text;
    };
    // Only worth saying while not connected: connected, changes leave within a
    // frame, and a count flickering at 60 Hz during a drag would be noise.
    let pending = move || match ui.pending.get() {
        _ if ui.status.get() == ConnStatus::Connected => String::new(),
        0 => String::new(),
        n => format!("{n} change{} waiting to send", if n == 1 { "" } else { "s" }),
    };

    view! {
        <main class="room">
            <header class="room-bar">
                <a class="home" href="/">"Sketchboard"</a>
                <h1>
                    {match (view, history) {
                        (true, false) => "View-only".to_owned(),
                        (true, true) => "History (view-only)".to_owned(),
                        (false, false) => room.to_string(),
                        (false, true) => format!("History of {room}"),
                    }}
                </h1>
                {
                    let base = if view { format!("/v/{room}") } else { format!("/r/{room}") };
                    if history {
                        view! { <a class="tool" href=base>"Back to the board"</a> }
                    } else {
                        view! { <a class="tool" href=format!("{base}/history")>"History"</a> }
                    }
                }
                {(!view && !history).then(|| add_row(ui, act))}
                <div class="presence">
                    <span class=move || format!("status {}", ui.status.get().css()) role="status">
                        {move || ui.status.get().label()}
                    </span>
                    <span class="people-count">{people}</span>
                    <span class="pending">{pending}</span>
                </div>
            </header>
            <div class="room-tools">
                {history.then(|| view! { <HistoryPanel room=room.clone() view board=replay /> })}
                {(!view && !history).then(|| view! {
                    {tool_row("Edit", vec![
                        ("Undo", ui.can_undo, Action::Undo),
                        ("Redo", ui.can_redo, Action::Redo),
                        ("Bring to front", ui.has_selection, Action::ToFront),
                        ("Send to back", ui.has_selection, Action::ToBack),
                    ], act)}
                    {tool_row("Text size", TextSize::ALL.into_iter().map(|size| (size.name(), ui.has_selection, Action::TextSize(size))).collect(), act)}
                    <div class="toolbar colours" role="toolbar" aria-label="Colour">
                        {Color::ALL
                            .into_iter()
                            .map(|color| {
                                view! {
                                    <button
                                        type="button"
                                        class=format!("swatch {}", color.name())
                                        aria-label=color.label()
                                        on:click=move |_| act(Action::Paint(color))
                                    ></button>
                                }
                            })
                            .collect_view()}
                    </div>
                    <Share room=room.clone() />
                })}
                {(!history).then(|| {
                    let (base, file) = if view { (format!("/v/{room}"), "board".to_owned()) } else { (format!("/r/{room}"), room.to_string()) };
                    view! {
                        <div class="toolbar" role="toolbar" aria-label="Export and import">
                            {[("Export PNG", "png?scale=2", "png"), ("Export SVG", "svg", "svg"), ("Export JSON", "json", "json")]
                                .into_iter()
                                .map(|(label, ask, ext)| view! {
                                    <a class="tool" href=format!("{base}.{ask}") download=format!("{file}.{ext}")>{label}</a>
                                })
                                .collect_view()}
                            {(!view).then(|| view! {
                                <label class="tool import">
                                    "Import"
                                    <input
                                        type="file"
                                        accept=".json,application/json"
                                        class="visually-hidden"
                                        on:change=import
                                    />
                                </label>
                            })}
                            <span class="notice" aria-live="polite">{move || ui.notice.get()}</span>
                        </div>
                    }
                })}
                <div class="people-bar">
                    <label class="your-name">
                        "Your name"
                        <input
                            maxlength=MAX_NAME_CHARS
                            autocomplete="nickname"
                            prop:value=move || ui.name.get()
                            on:change=move |ev| rename(event_target_value(&ev))
                        />
                    </label>
                    <ul class="people" aria-label="People in this room">
                        <For each=move || ui.people.get() key=|p| p.clone() let(p)>
                            <li style=format!("--person: {}", p.color)>
                                {p.name}
                                {match (p.you, p.viewer) {
                                    (true, _) => " (you)",
                                    (false, true) => " (viewing)",
                                    _ => "",
                                }}
                            </li>
                        </For>
                    </ul>
                </div>
            </div>
            <div class="stage">
                // The server's picture of the board (children: never hydrated)
                // covers the canvas until the live board has drawn.
                <div class="sheet" class:live=move || live_once.get()>
                    // Focusable, so the keyboard can work it (Tab moves between
                    // shapes); what it shows is told by the list below.
                    <canvas node_ref=canvas class="board" tabindex="0" role="application" aria-label="Board"></canvas>
                    {children()}
                </div>
            </div>
            // Hint and text alternative in one element: a fifth child of `main`
            // would cost the bundle a whole new tuple of views.
            <footer class="room-foot">
                <p class="hint">
                    "Click a shape to select it (Shift+click: several), or drag on empty board to select an area; drag to move. Arrow keys nudge (Shift: further); Delete removes; Ctrl+A selects all, Ctrl+D duplicates, Ctrl+C and Ctrl+V copy and paste (between rooms too); Ctrl+Z undoes, Ctrl+Shift+Z redoes. Drag a handle to resize or turn (Alt+arrows resize, > and < turn). Double-click a shape or press Enter to write in it; N adds a note; T then a click, or a double-click on empty board, starts a text box. On the focused board, Tab and Shift+Tab move from shape to shape."
                </p>
                <p class="visually-hidden" aria-live="polite" data-testid="announcements">
                    {move || ui.announce.get()}
                </p>
                <ul class="visually-hidden" aria-label="Shapes on the board">
                    <For each=move || ui.lines.get() key=|line| line.clone() let(line)>
                        <li>{line.text}</li>
                    </For>
                </ul>
            </footer>
        </main>
    }
}
