//! What the live board shows outside its canvas, as signals the room page
//! renders: the connection's status, who is here, your name, changes waiting to be
//! sent, the canvas's text alternative. It sits below both the page (which
//! reads it) and the live board (which writes it), so neither imports the other
//! for it, and it is compiled in both builds: the page renders it on the server too.

use leptos::prelude::RwSignal;

/// Connection state, as shown to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnStatus {
    Connecting,
    Connected,
    Reconnecting,
    Offline,
    /// The server speaks a newer protocol: the page must be reloaded.
    Outdated,
    /// The room has as many people as it allows; retrying.
    RoomFull,
    /// The view-only link this page came by was replaced.
    LinkReplaced,
}

impl ConnStatus {
    pub fn label(self) -> &'static str {
        match self {
            ConnStatus::Connecting => "Connecting…",
            ConnStatus::Connected => "Connected",
            ConnStatus::Reconnecting => "Reconnecting…",
            ConnStatus::Offline => "Offline",
            ConnStatus::Outdated => "Sketchboard was updated: reload the page",
            ConnStatus::RoomFull => "This room is full: waiting for a place…",
            ConnStatus::LinkReplaced => "This view-only link was replaced: ask for the new one",
        }
    }

    /// The status light's class: green, amber or red.
    pub fn css(self) -> &'static str {
        match self {
            ConnStatus::Connected => "ok",
            ConnStatus::Connecting | ConnStatus::Reconnecting => "wait",
            ConnStatus::Offline | ConnStatus::Outdated | ConnStatus::RoomFull | ConnStatus::LinkReplaced => "bad",
        }
    }
}

/// One line of the canvas's text alternative.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ShapeLine {
    pub id: String,
    pub text: String,
}

/// One person in the people list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonLine {
    pub id: u32,
    pub name: String,
    /// Their colour, as CSS.
    pub color: &'static str,
    pub you: bool,
    /// Here by a view-only link.
    pub viewer: bool,
}

/// What the live board shows outside the canvas. All signals, so `Copy`.
#[derive(Clone, Copy)]
pub struct BoardUi {
    pub status: RwSignal<ConnStatus>,
    pub members: RwSignal<u32>,
    pub pending: RwSignal<usize>,
    pub lines: RwSignal<Vec<ShapeLine>>,
    pub has_selection: RwSignal<bool>,
    pub can_undo: RwSignal<bool>,
    pub can_redo: RwSignal<bool>,
    /// The Text tool is in hand (the next click on the board writes there).
    pub text_tool: RwSignal<bool>,
    /// Who is here, yourself first (empty while not connected).
    pub people: RwSignal<Vec<PersonLine>>,
    /// Your display name, as the field shows it.
    pub name: RwSignal<String>,
    /// What others just did, for screen readers (a polite live region).
    pub announce: RwSignal<String>,
    /// What the last import did, or why it could not.
    pub notice: RwSignal<String>,
}

impl BoardUi {
    pub fn new() -> BoardUi {
        BoardUi {
            status: RwSignal::new(ConnStatus::Connecting),
            members: RwSignal::new(0),
            pending: RwSignal::new(0),
            lines: RwSignal::new(Vec::new()),
            has_selection: RwSignal::new(false),
            can_undo: RwSignal::new(false),
            can_redo: RwSignal::new(false),
            text_tool: RwSignal::new(false),
            people: RwSignal::new(Vec::new()),
            name: RwSignal::new(String::new()),
            announce: RwSignal::new(String::new()),
            notice: RwSignal::new(String::new()),
        }
    }
}

impl Default for BoardUi {
    fn default() -> Self {
        Self::new()
    }
}
