//! The live board's side of its connection (`connection::Owner`): what it
//! does with each server message the session judged (apply, confirm, show who
//! is here) and with the connection coming and going.

use leptos::prelude::Set;

use super::connection::{Owner, Verdict};
use super::live_board::LiveBoard;
use crate::board_ui::ConnStatus;
use sketchboard_core::model::{Change, ReplicaError};
use sketchboard_core::protocol::ErrorCode;
use sketchboard_core::roster::Seen;
use sketchboard_core::session::Event;

/// The connection's side: the board answers for the session.
impl Owner for LiveBoard {
    fn hello(&self) -> String {
        self.session.borrow_mut().hello().to_json()
    }

    fn receive(&self, text: &str) -> Verdict {
        let pending_before = self.session.borrow().pending();
        let event = self.session.borrow_mut().receive_text(text);
        // A move, resize or turn, confirmed or someone else's, changes that
        // one shape only (pending changes on others still apply on top);
        // anything else may change anything.
        match &event {
            Event::Applied {
                change: Change::Move { id, .. } | Change::Resize { id, .. } | Change::Rotate { id, .. },
                ..
            } => self.canvas.moved(id),
            Event::Members(_) | Event::TurnedAway { .. } | Event::Presence(_) | Event::Arriving => {}
            _ => self.canvas.changed(),
        }
        let verdict = match event {
            Event::Joined { members, resend, .. } => {
                for msg in resend {
                    self.connection.send(msg.to_json());
                }
                self.ui.members.set(members);
                self.refusal.set(None);
                self.set_status(ConnStatus::Connected);
                for msg in self.presence.joined() {
                    self.connection.send(msg.to_json());
                }
                Verdict::Joined
            }
            Event::Presence(msg) => {
                // (Bound first: the roster's borrow must end before the people list reads it.)
                let seen = self.presence.roster.borrow_mut().apply(&msg, js_sys::Date::now());
                match seen {
                    Seen::People => self.ui.people.set(self.presence.people()),
                    Seen::Board => self.invalidate(),
                    Seen::Nothing => {}
                }
                // Nothing on the board changed: no need for `after_change`.
                return Verdict::Continue;
            }
            Event::Applied { change, own: None, by, .. } => {
                // Someone else's: what it sets is theirs, and undo leaves it be.
                self.editor.borrow_mut().observe(&change);
                self.announce(&change, by);
                Verdict::Continue
            }
            Event::Applied { .. } => Verdict::Continue,
            // More of a change to come: nothing shows yet.
            Event::Arriving => return Verdict::Continue,
            Event::Members(members) => {
                self.ui.members.set(members);
                Verdict::Continue
            }
            Event::Refused { code: ErrorCode::Busy, message, .. } => {
                // The change waits in the session; a new connection sends it again.
                leptos::logging::warn!("{message}: sending it again shortly");
                Verdict::Later
            }
            Event::Refused { code, message, .. } => {
                leptos::logging::warn!("the server refused a message ({code:?}): {message}");
                Verdict::Continue
            }
            Event::TurnedAway { code, message } => {
                // The server closes the connection next; retries find a place
                // as soon as there is one.
                leptos::logging::warn!("{message}");
                self.refusal.set((code == ErrorCode::RoomFull).then_some(ConnStatus::RoomFull));
                Verdict::Continue
            }
            Event::Resync(e) => {
                // Which way it failed, not the whole sentence: the wording of
                // refusals (`ChangeError`) stays out of the bundle.
                let why = match e {
                    ReplicaError::OutOfOrder { .. } => "a change came out of order",
                    ReplicaError::Diverged { .. } => "the server's change does not apply here",
                    ReplicaError::BadBoard(_) => "the welcome's board did not come whole",
                };
                leptos::logging::warn!("resynchronising: {why}");
                Verdict::Reconnect
            }
            Event::Outdated(why) => {
                leptos::logging::error!("{why}: reload needed");
                Verdict::Stop
            }
        };
        if self.session.borrow().pending() != pending_before {
            self.save();
        }
        self.after_change();
        verdict
    }

    fn lost(&self, online: bool) {
        self.session.borrow_mut().disconnected();
        self.presence.lost();
        self.ui.people.set(Vec::new());
        self.invalidate();
        let status = match self.refusal.get() {
            _ if !online => ConnStatus::Offline,
            Some(refusal) => refusal,
            None => ConnStatus::Reconnecting,
        };
        self.set_status(status);
    }

    fn revoked(&self) {
        self.session.borrow_mut().disconnected();
        self.presence.lost();
        self.ui.people.set(Vec::new());
        self.set_status(ConnStatus::LinkReplaced);
    }

    fn stopped(&self) {
        self.session.borrow_mut().disconnected();
        self.set_status(ConnStatus::Outdated);
    }
}
