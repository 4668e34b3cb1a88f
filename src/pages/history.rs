//! The history panel (`/r/{room}/history`, `/v/{token}/history`): a slider
//! named **Version** from the empty board (0) to the room's latest change,
//! step buttons, play and pause at three speeds, when the version shown was
//! made, and **Restore this version** for editors. A seek asks the server for
//! that version (a keyframe plus the changes after it, `server/api.rs`),
//! only ever one request at a time and then the latest wanted; playing reads
//! the log a page at a time and applies each change with the same `apply`
//! the live board uses. The board on the canvas is the live board's job
//! (`client/replay.rs`): this panel tells it what to show.

use leptos::prelude::*;

use sketchboard_core::model::{Board, RoomName};

/// What the panel asks of the live board.
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub(super) enum Replay {
    /// Show this version.
    Show(Board),
    /// Make the live board look like the version shown; whether it did.
    Restore,
}

/// Changes played per second at each speed.
const SPEEDS: [(&str, u32); 3] = [("1×", 4), ("4×", 16), ("16×", 64)];

/// The panel's state: all signals, so it is `Copy` into every handler.
#[derive(Clone, Copy)]
struct Panel {
    /// The room's latest change, as last heard.
    head: RwSignal<u64>,
    /// The version wanted (the slider).
    want: RwSignal<u64>,
    /// The version on the canvas, once one is.
    shown: RwSignal<Option<u64>>,
    /// When the version shown was made, in words.
    when: RwSignal<String>,
    playing: RwSignal<bool>,
    speed: RwSignal<u32>,
    note: RwSignal<String>,
}

#[component]
#[allow(unreachable_pub)] // the macro gives its generated props `pub`
pub(super) fn HistoryPanel(room: RoomName, view: bool, board: Callback<Replay, bool>) -> impl IntoView {
    let p = Panel {
        head: RwSignal::new(0),
        want: RwSignal::new(0),
        shown: RwSignal::new(None),
        when: RwSignal::new(String::new()),
        playing: RwSignal::new(false),
        speed: RwSignal::new(SPEEDS[0].1),
        note: RwSignal::new(String::new()),
    };
    #[cfg(not(feature = "hydrate"))]
    let _ = &room;
    #[cfg(feature = "hydrate")]
    let seeker = {
        let seeker = seek::Seeker::new(room.clone(), view, p, board);
        let first = seeker.clone();
        Effect::new(move |_| first.seek(None));
        StoredValue::new_local(seeker)
    };
    let go = move |to: u64| {
        p.want.set(to.min(p.head.get_untracked()));
        #[cfg(feature = "hydrate")]
        seeker.with_value(|s| s.seek(Some(p.want.get_untracked())));
    };
    let play = move || {
        let start = !p.playing.get_untracked();
        p.playing.set(start);
        #[cfg(feature = "hydrate")]
        if start {
            seeker.with_value(|s| s.play());
        }
    };
    let restore = move || {
        if board.run(Replay::Restore) {
            #[cfg(feature = "hydrate")]
            seek::back_to_board(&room);
        } else {
            p.note.set("Nothing to restore: the board looks like this version already.".into());
        }
    };
    let label = move || match p.shown.get() {
        None => "Loading…".to_owned(),
        Some(0) => format!("Version 0 of {}: the empty board", p.head.get()),
        Some(seq) => format!("Version {seq} of {} · {}", p.head.get(), p.when.get()),
    };
    let at_end = move || p.want.get() >= p.head.get();
    view! {
        <div class="history" role="group" aria-label="History">
            <button type="button" class="tool" disabled=move || p.want.get() == 0 on:click=move |_| go(p.want.get_untracked().saturating_sub(1))>
                "Previous change"
            </button>
            <input
                type="range"
                class="version"
                aria-label="Version"
                min="0"
                max=move || p.head.get().to_string()
                prop:value=move || p.want.get().to_string()
                on:input=move |ev| {
                    p.playing.set(false);
                    go(event_target_value(&ev).parse().unwrap_or(0));
                }
            />
            <button type="button" class="tool" disabled=at_end on:click=move |_| go(p.want.get_untracked() + 1)>
                "Next change"
            </button>
            <button type="button" class="tool" disabled=move || at_end() && !p.playing.get() on:click=move |_| play()>
                {move || if p.playing.get() { "Pause" } else { "Play" }}
            </button>
            <label class="speed">
                "Speed "
                <select on:change=move |ev| p.speed.set(event_target_value(&ev).parse().unwrap_or(SPEEDS[0].1))>
                    {SPEEDS.into_iter().map(|(name, rate)| view! { <option value=rate.to_string()>{name}</option> }).collect_view()}
                </select>
            </label>
            <span class="version-label" aria-live="polite">{label}</span>
            {(!view).then(|| view! {
                <button
                    type="button"
                    class="tool"
                    disabled=move || p.shown.get().is_none_or(|s| s == p.head.get() || s != p.want.get())
                    on:click=move |_| restore()
                >
                    "Restore this version"
                </button>
            })}
            <p class="history-note" aria-live="polite">{move || p.note.get()}</p>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod seek {
    //! Fetching versions and pages of changes, one request at a time.

    use std::cell::{Cell, RefCell};
    use std::collections::VecDeque;
    use std::rc::Rc;

    use leptos::prelude::*;

    use super::{Panel, Replay};
    use crate::browser::replay::{Version, fetch};
    use sketchboard_core::model::{Board, Change, RoomName};

    /// How many changes playing reads at once.
    const PAGE: usize = 200;

    #[derive(Clone)]
    pub(super) struct Seeker(Rc<Inner>);

    struct Inner {
        room: RoomName,
        view: bool,
        p: Panel,
        board: Callback<Replay, bool>,
        busy: Cell<bool>,
        /// The version shown, for playing on from it.
        current: RefCell<Option<(u64, Board)>>,
        /// Changes read ahead while playing: (seq, when, change).
        ahead: RefCell<VecDeque<(u64, Option<f64>, Change)>>,
        timer: RefCell<Option<gloo_timers::callback::Interval>>,
    }

    /// A time from the server (ms since 1970) in the reader's own words.
    fn when(at: Option<f64>) -> String {
        match at {
            Some(ms) => {
                let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
                format!("made {}", String::from(date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED)))
            }
            None => "made before times were kept".to_owned(),
        }
    }

    impl Seeker {
        pub(super) fn new(room: RoomName, view: bool, p: Panel, board: Callback<Replay, bool>) -> Seeker {
            Seeker(Rc::new(Inner {
                room,
                view,
                p,
                board,
                busy: Cell::new(false),
                current: RefCell::new(None),
                ahead: RefCell::new(VecDeque::new()),
                timer: RefCell::new(None),
            }))
        }

        fn show(&self, seq: u64, at: Option<f64>, board: Board) {
            let p = self.0.p;
            p.shown.set(Some(seq));
            p.when.set(when(at));
            self.0.board.run(Replay::Show(board.clone()));
            *self.0.current.borrow_mut() = Some((seq, board));
        }

        /// Shows version `seq` (the latest when `None`); while a request is
        /// out, the panel's wanted version is fetched when it returns.
        pub(super) fn seek(&self, seq: Option<u64>) {
            self.0.ahead.borrow_mut().clear();
            if self.0.busy.replace(true) {
                return;
            }
            let me = self.clone();
            leptos::task::spawn_local(async move {
                let answer: Result<Version, String> = fetch(&me.0.room, me.0.view, seq).await;
                me.0.busy.set(false);
                let p = me.0.p;
                match answer {
                    Ok(v) => {
                        p.head.set(v.head.max(p.head.get_untracked()));
                        if seq.is_none() {
                            p.want.set(v.seq);
                        }
                        me.show(v.seq, v.at, v.shapes);
                        p.note.set(String::new());
                        let want = p.want.get_untracked();
                        if want != v.seq {
                            me.seek(Some(want));
                        }
                    }
                    Err(e) => p.note.set(format!("That version could not be loaded: {e}")),
                }
            });
        }

        /// Plays on from the version shown until the end or a pause.
        pub(super) fn play(&self) {
            let rate = self.0.p.speed.get_untracked().max(1);
            let me = self.clone();
            let tick = gloo_timers::callback::Interval::new(1000 / rate, move || me.step());
            *self.0.timer.borrow_mut() = Some(tick);
        }

        fn stop(&self) {
            self.0.p.playing.set(false);
            self.0.timer.borrow_mut().take();
        }

        fn step(&self) {
            let p = self.0.p;
            if !p.playing.get_untracked() {
                self.stop();
                return;
            }
            if self.0.busy.get() {
                return;
            }
            let Some((seq, mut board)) = self.0.current.borrow_mut().take() else { return };
            if seq >= p.head.get_untracked() {
                *self.0.current.borrow_mut() = Some((seq, board));
                self.stop();
                return;
            }
            let next = self.0.ahead.borrow_mut().pop_front();
            let Some((s, at, change)) = next.filter(|(s, ..)| *s == seq + 1) else {
                *self.0.current.borrow_mut() = Some((seq, board));
                self.read_ahead(seq);
                return;
            };
            if board.apply(&change).is_err() {
                // The server's versions are the truth: ask for this one whole.
                p.want.set(s);
                self.seek(Some(s));
                return;
            }
            p.want.set(s);
            self.show(s, at, board);
        }

        fn read_ahead(&self, after: u64) {
            self.0.busy.set(true);
            let me = self.clone();
            leptos::task::spawn_local(async move {
                let page = crate::browser::replay::changes(&me.0.room, me.0.view, after, PAGE).await;
                me.0.busy.set(false);
                match page {
                    Ok((head, changes)) => {
                        me.0.p.head.set(head.max(me.0.p.head.get_untracked()));
                        me.0.ahead.borrow_mut().extend(changes);
                    }
                    Err(e) => {
                        me.0.p.note.set(format!("The history could not be read: {e}"));
                        me.stop();
                    }
                }
            });
        }
    }

    /// After a restore: the board itself, where Undo takes it back.
    pub(super) fn back_to_board(room: &RoomName) {
        if let Some(window) = web_sys::window() {
            let _ = window.location().assign(&format!("/r/{room}"));
        }
    }
}
