//! One tab's side of the protocol, written once and free of I/O: the browser,
//! the integration tests' tabs and the load generator all drive this object.
//!
//! A `Session` holds the tab's identity (its client id), its replica of the
//! board (confirmed board plus pending changes) and where in the room's history
//! that board stands (epoch and seq). Whoever owns the socket asks it for the
//! `hello` when a connection opens, hands it every server message and says
//! what happened (`Event`), and gives it the user's changes, which it applies at
//! once and returns as messages to send while the connection is live. It never
//! touches a socket, a timer or storage, so it runs the same in a browser, in a
//! test and in a property test.

use serde::{Deserialize, Serialize};

use crate::model::{Board, Change, ChangeError, ClientId, Replica, ReplicaError, Shape, Unsent};
use crate::protocol::{ClientMsg, ErrorCode, Position, ServerMsg};

/// Where the session's connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// No connection: changes wait in the replica and go out after the next answer to `hello`.
    Offline,
    /// `hello` sent, its answer not yet received: changes still wait.
    Joining,
    /// The hello was answered: changes go out as they are made.
    Live,
}

/// What one server message meant.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The hello was answered: the board is the room's (`caught_up` says
    /// whether by the missed changes rather than a snapshot). `resend` holds
    /// this tab's changes the room does not have yet, oldest first: send them
    /// now, before anything else.
    Joined { members: u32, caught_up: bool, resend: Vec<ClientMsg> },
    /// A change the room recorded, in the room's order; `own` is its `op` when
    /// it is this tab's change, which it confirms.
    /// `by` is the author's person number (presence), when it is someone else's.
    Applied { seq: u64, change: Change, own: Option<u64>, by: Option<u32> },
    /// How many connections the room has now.
    Members(u32),
    /// Presence (who is here, pointers, selections): for the tab's `Roster`.
    Presence(ServerMsg),
    /// The room refused something. When `op` names one of this tab's changes,
    /// that change is gone from the view.
    Refused { code: ErrorCode, message: String, op: Option<u64> },
    /// The room will not take this tab now (it is full, or the server is):
    /// the server closes the connection next; try again later.
    TurnedAway { code: ErrorCode, message: String },
    /// This copy of the board cannot be trusted any more: drop the connection
    /// and reconnect; the next hello asks for a whole snapshot.
    Resync(ReplicaError),
    /// The server speaks another protocol, or sent what this build cannot
    /// read: stop, and ask for a reload.
    Outdated(String),
}

/// A change this tab made: its `op`, and the message to send now, if live.
#[derive(Debug, Clone, PartialEq)]
pub struct Made {
    pub op: u64,
    pub send: Option<ClientMsg>,
}

/// What a tab keeps across a reload: who it is, and its changes the room has
/// not confirmed (the board itself comes back from the server).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    pub client: ClientId,
    /// The op number the next change gets.
    pub next_op: u64,
    /// Changes the room had not confirmed, oldest first.
    pub pending: Vec<(u64, Change)>,
}

#[derive(Debug, Clone)]
pub struct Session {
    client: ClientId,
    /// The person this tab belongs to, said in each hello (see `ClientMsg::Hello`).
    person: Option<ClientId>,
    replica: Replica,
    /// The room incarnation the replica's board came from (from the welcome).
    epoch: u64,
    phase: Phase,
    /// A welcome whose board is still arriving.
    welcome: Option<Welcome>,
}

/// A welcome, and the parts of its board received so far.
#[derive(Debug, Clone)]
struct Welcome {
    seq: u64,
    epoch: u64,
    members: u32,
    last_op: u64,
    parts: u32,
    received: u32,
    shapes: Vec<Shape>,
}

impl Session {
    pub fn new(client: ClientId) -> Session {
        Session { client, person: None, replica: Replica::new(), epoch: 0, phase: Phase::Offline, welcome: None }
    }

    /// A session that picks up where a previous page of the same tab left
    /// off: its unsent changes are shown at once and sent after the next answer to hello.
    pub fn restore(saved: Saved) -> Session {
        Session {
            client: saved.client,
            person: None,
            replica: Replica::restore(Unsent { next_op: saved.next_op, pending: saved.pending }),
            epoch: 0,
            phase: Phase::Offline,
            welcome: None,
        }
    }

    /// What to keep across a reload.
    pub fn saved(&self) -> Saved {
        let Unsent { next_op, pending } = self.replica.unsent();
        Saved { client: self.client.clone(), next_op, pending }
    }

    /// Says which person this tab belongs to, from the next hello on.
    pub fn set_person(&mut self, person: ClientId) {
        self.person = Some(person);
    }

    pub fn client(&self) -> &ClientId {
        &self.client
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// What the tab shows: the room's board with this tab's own changes on top.
    pub fn view(&self) -> &Board {
        self.replica.view()
    }

    pub fn replica(&self) -> &Replica {
        &self.replica
    }

    /// This tab's changes the room has not confirmed yet.
    pub fn pending(&self) -> usize {
        self.replica.pending().len()
    }

    /// The first message of a new connection: with the board's place in the
    /// room's history, when the replica can vouch for it, so the room may send
    /// only what was missed.
    pub fn hello(&mut self) -> ClientMsg {
        self.phase = Phase::Joining;
        self.welcome = None;
        let at = self.replica.base().map(|seq| Position { epoch: self.epoch, seq });
        ClientMsg::hello(self.client.clone(), self.person.clone(), at)
    }

    /// The connection is gone (or was never made): changes wait from now on.
    pub fn disconnected(&mut self) {
        self.phase = Phase::Offline;
        self.welcome = None;
    }

    /// Applies a change made in this tab and numbers it. While live, says
    /// what to send; otherwise the change waits (a move following a waiting
    /// move of the same shape replaces it, so an offline drag waits as one
    /// change). Err if it does not apply here; then nothing changed.
    pub fn change(&mut self, change: Change) -> Result<Made, ChangeError> {
        if self.phase != Phase::Live {
            let op = self.replica.local_unsent(change)?;
            return Ok(Made { op, send: None });
        }
        let op = self.replica.local(change.clone())?;
        Ok(Made { op, send: Some(ClientMsg::Change { op, change }) })
    }

    /// Reads one text frame from the server and takes it in.
    pub fn receive_text(&mut self, text: &str) -> Event {
        match ServerMsg::decode(text) {
            Ok(msg) => self.receive(msg),
            // Skipping it would leave this tab silently out of step; a message
            // this build cannot read means the server is newer.
            Err(e) => self.outdated(format!("a server message this page cannot read ({e})")),
        }
    }

    /// Takes in one server message.
    pub fn receive(&mut self, msg: ServerMsg) -> Event {
        match msg {
            ServerMsg::Welcome { seq, epoch, members, last_op, parts, .. } => {
                let shapes = Vec::new();
                self.welcome = Some(Welcome { seq, epoch, members, last_op, parts, received: 0, shapes });
                self.board_part_received()
            }
            ServerMsg::Board { seq, part, shapes } => {
                let fits = self.welcome.as_ref().is_some_and(|w| w.seq == seq && w.received == part && part < w.parts);
                let Some(welcome) = self.welcome.as_mut().filter(|_| fits) else {
                    return self.resync(ReplicaError::BadBoard(format!("part {part} of the board at {seq}, unasked")));
                };
                welcome.shapes.extend(shapes);
                welcome.received += 1;
                self.board_part_received()
            }
            ServerMsg::CatchUp { from, changes, members, last_op, .. } => {
                match self.replica.catch_up(from, &changes, last_op) {
                    Ok(()) => self.joined(members, true),
                    Err(e) => self.resync(e),
                }
            }
            ServerMsg::Applied { seq, change, op, by } => {
                if self.phase != Phase::Live {
                    // The stream starts after the answer to hello; anything
                    // before it cannot be placed.
                    let expected = self.replica.seq() + 1;
                    return self.resync(ReplicaError::OutOfOrder { expected, got: seq });
                }
                match self.replica.applied(seq, op, &change) {
                    Ok(()) => Event::Applied { seq, change, own: op, by },
                    Err(e) => self.resync(e),
                }
            }
            ServerMsg::Presence { members } => Event::Members(members),
            ServerMsg::You { .. }
            | ServerMsg::Person { .. }
            | ServerMsg::PersonLeft { .. }
            | ServerMsg::Pointer { .. }
            | ServerMsg::Selection { .. }
            | ServerMsg::TabLeft { .. } => Event::Presence(msg),
            ServerMsg::Error { code: ErrorCode::VersionMismatch, message, .. } => self.outdated(message),
            ServerMsg::Error { code: code @ (ErrorCode::RoomFull | ErrorCode::ServerBusy), message, .. } => {
                Event::TurnedAway { code, message }
            }
            ServerMsg::Error { code, message, op } => {
                if let Some(op) = op {
                    self.replica.rejected(op);
                }
                Event::Refused { code, message, op }
            }
        }
    }

    /// Completes the welcome once its board is all here.
    fn board_part_received(&mut self) -> Event {
        let Some(welcome) = self.welcome.take_if(|w| w.received >= w.parts) else {
            return Event::Members(self.welcome.as_ref().map_or(0, |w| w.members));
        };
        let Welcome { seq, epoch, members, last_op, shapes, .. } = welcome;
        match Board::try_from(shapes) {
            Ok(board) => {
                self.epoch = epoch;
                self.replica.reset(seq, board, last_op);
                self.joined(members, false)
            }
            Err(e) => self.resync(ReplicaError::BadBoard(e.to_string())),
        }
    }

    fn joined(&mut self, members: u32, caught_up: bool) -> Event {
        self.phase = Phase::Live;
        let resend = self.replica.pending().map(|(op, change)| ClientMsg::Change { op: *op, change: change.clone() });
        Event::Joined { members, caught_up, resend: resend.collect() }
    }

    fn resync(&mut self, e: ReplicaError) -> Event {
        self.phase = Phase::Offline;
        Event::Resync(e)
    }

    fn outdated(&mut self, why: String) -> Event {
        self.phase = Phase::Offline;
        Event::Outdated(why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::create;
    use crate::protocol::PROTOCOL_VERSION;
    fn room() -> crate::model::RoomName {
        crate::model::RoomName::parse("r").unwrap()
    }
    /// A welcome with its board in one part, taken in; what the last message meant.
    fn welcome(s: &mut Session, seq: u64, epoch: u64, shapes: Vec<Shape>, last_op: u64) -> Event {
        let welcome =
            ServerMsg::Welcome { version: PROTOCOL_VERSION, room: room(), seq, epoch, members: 2, last_op, parts: 1 };
        assert_eq!(s.receive(welcome), Event::Members(2), "the board is still to come");
        s.receive(ServerMsg::Board { seq, part: 0, shapes })
    }
    fn session() -> Session {
        Session::new(ClientId::parse("tab").unwrap())
    }
    fn since(hello: &ClientMsg) -> (Option<u64>, Option<u64>) {
        match hello {
            ClientMsg::Hello { since, epoch, .. } => (*since, *epoch),
            other => panic!("not a hello: {other:?}"),
        }
    }

    #[test]
    fn changes_wait_until_the_hello_is_answered_then_go_out_in_order() {
        let mut s = session();
        assert_eq!(since(&s.hello()), (None, None), "nothing to resume from yet");
        assert_eq!(s.change(create("a", 1.0)).unwrap().send, None, "joining: it waits");
        assert_eq!(s.view().len(), 1, "but shows at once");
        let Event::Joined { resend, caught_up: false, .. } = welcome(&mut s, 0, 7, Vec::new(), 0) else {
            panic!("joined")
        };
        assert_eq!(resend, [ClientMsg::Change { op: 1, change: create("a", 1.0) }]);
        let sent = s.change(create("b", 300.0)).unwrap().send;
        assert_eq!(sent, Some(ClientMsg::Change { op: 2, change: create("b", 300.0) }));
        let confirmed = s.receive(ServerMsg::Applied { seq: 1, change: create("a", 1.0), op: Some(1), by: None });
        assert_eq!(confirmed, Event::Applied { seq: 1, change: create("a", 1.0), own: Some(1), by: None });
        assert_eq!(s.pending(), 1);
    }

    #[test]
    fn a_reconnect_says_where_the_board_stands_and_resends_only_what_the_room_lacks() {
        let mut s = session();
        s.hello();
        welcome(&mut s, 4, 7, Vec::new(), 0);
        let first = s.change(create("a", 1.0)).unwrap();
        let second = s.change(create("b", 300.0)).unwrap();
        assert!(first.send.is_some() && second.send.is_some(), "live: both go out at once");
        s.disconnected();
        assert_eq!(since(&s.hello()), (Some(4), Some(7)));
        // The room recorded the first before the drop, and someone else's change.
        let answer = ServerMsg::CatchUp {
            version: PROTOCOL_VERSION,
            room: room(),
            from: 4,
            changes: vec![create("z", 600.0), create("a", 1.0)],
            members: 1,
            last_op: 1,
        };
        let Event::Joined { resend, caught_up: true, .. } = s.receive(answer) else { panic!("caught up") };
        assert_eq!(resend, [ClientMsg::Change { op: 2, change: create("b", 300.0) }]);
        assert_eq!(s.view().len(), 3);
    }

    #[test]
    fn a_gap_or_a_change_before_the_answer_asks_for_a_snapshot() {
        let mut s = session();
        s.hello();
        let early = s.receive(ServerMsg::Applied { seq: 1, change: create("a", 1.0), op: None, by: None });
        assert!(matches!(early, Event::Resync(_)), "{early:?}");
        s.hello();
        welcome(&mut s, 3, 7, Vec::new(), 0);
        let gap = s.receive(ServerMsg::Applied { seq: 5, change: create("a", 1.0), op: None, by: None });
        assert!(matches!(gap, Event::Resync(_)), "{gap:?}");
        assert_eq!(s.phase(), Phase::Offline);
        assert_eq!(since(&s.hello()), (None, None), "a board it cannot vouch for is not offered");
    }

    #[test]
    fn refusals_turn_aways_and_the_unreadable_are_told_apart() {
        let mut s = session();
        s.hello();
        welcome(&mut s, 0, 7, Vec::new(), 0);
        s.change(create("a", 1.0)).unwrap();
        let refused = s.receive(ServerMsg::error(ErrorCode::DuplicateShape, "taken", Some(1)));
        assert!(matches!(refused, Event::Refused { op: Some(1), .. }));
        assert!(s.view().is_empty(), "the refused change is gone from the view");
        let full = s.receive(ServerMsg::error(ErrorCode::RoomFull, "full", None));
        assert!(matches!(full, Event::TurnedAway { code: ErrorCode::RoomFull, .. }));
        assert!(matches!(s.receive_text(r#"{"type":"from_the_future"}"#), Event::Outdated(_)));
        let mismatch = s.receive(ServerMsg::error(ErrorCode::VersionMismatch, "reload", None));
        assert!(matches!(mismatch, Event::Outdated(_)));
    }

    #[test]
    fn a_board_in_parts_is_taken_whole_and_in_order_only() {
        let shape = |name: &str, x: f64| match create(name, x) {
            Change::Create { shape } => shape,
            _ => unreachable!(),
        };
        let mut s = session();
        s.hello();
        let welcome = |parts| ServerMsg::Welcome {
            version: PROTOCOL_VERSION,
            room: room(),
            seq: 9,
            epoch: 3,
            members: 1,
            last_op: 0,
            parts,
        };
        s.receive(welcome(2));
        assert!(matches!(
            s.receive(ServerMsg::Board { seq: 9, part: 0, shapes: vec![shape("a", 1.0)] }),
            Event::Members(1)
        ));
        let joined = s.receive(ServerMsg::Board { seq: 9, part: 1, shapes: vec![shape("b", 300.0)] });
        assert!(matches!(joined, Event::Joined { .. }), "{joined:?}");
        assert_eq!(s.view().len(), 2);
        assert_eq!(s.replica().seq(), 9);

        // A part out of turn, or a board that no change could have made, is not taken.
        s.hello();
        s.receive(welcome(2));
        let skipped = s.receive(ServerMsg::Board { seq: 9, part: 1, shapes: Vec::new() });
        assert!(matches!(skipped, Event::Resync(ReplicaError::BadBoard(_))), "{skipped:?}");
        s.hello();
        s.receive(welcome(1));
        let twice = s.receive(ServerMsg::Board { seq: 9, part: 0, shapes: vec![shape("a", 1.0), shape("a", 5.0)] });
        assert!(matches!(twice, Event::Resync(ReplicaError::BadBoard(_))), "{twice:?}");
    }

    #[test]
    fn what_is_saved_comes_back_in_a_new_page() {
        let mut s = session();
        s.change(create("a", 1.0)).unwrap();
        let text = serde_json::to_string(&s.saved()).unwrap();
        let mut again = Session::restore(serde_json::from_str(&text).unwrap());
        assert_eq!(again.client(), s.client());
        again.hello();
        let Event::Joined { resend, .. } = welcome(&mut again, 0, 1, Vec::new(), 0) else { panic!("joined") };
        assert_eq!(resend.len(), 1, "the unsent change goes out from the new page");
    }
}
