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
use crate::protocol::{ALWAYS_FITS_PARTS, ClientMsg, ErrorCode, MAX_PARTS, Position, ServerMsg, in_parts};

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
    /// Part of a change sent in parts (`applied_part`): nothing to show
    /// until its last part makes it an `Applied`.
    Arriving,
    /// How many connections the room has now.
    Members(u32),
    /// Presence (who is here, pointers, selections): for the tab's `Roster`.
    Presence(ServerMsg),
    /// The room refused something. When `op` names one of this tab's changes,
    /// that change is gone from the view; unless the code is `Busy`: then it
    /// waits, and is sent again after the next answer to hello.
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

/// A change this tab made: its `op`, and the messages to send now (none
/// unless live; several for a batch sent in parts).
#[derive(Debug, Clone, PartialEq)]
pub struct Made {
    pub op: u64,
    pub send: Vec<ClientMsg>,
}

/// What a tab keeps across a reload: who it is, and its changes the room has
/// not confirmed (the board itself comes back from the server).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    pub client: ClientId,
    /// Its replica's unconfirmed changes and op numbering (flattened: the
    /// same JSON as when these were fields of their own).
    #[serde(flatten)]
    pub unsent: Unsent,
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
    /// A change whose parts are still arriving.
    arriving: Option<Arriving>,
}

/// A change sent in parts, and its changes received so far.
#[derive(Debug, Clone)]
struct Arriving {
    seq: u64,
    parts: u32,
    received: u32,
    changes: Vec<Change>,
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
        Session {
            client,
            person: None,
            replica: Replica::new(),
            epoch: 0,
            phase: Phase::Offline,
            welcome: None,
            arriving: None,
        }
    }

    /// A session that picks up where a previous page of the same tab left
    /// off: its unsent changes are shown at once and sent after the next answer to hello.
    pub fn restore(saved: Saved) -> Session {
        Session {
            client: saved.client,
            person: None,
            replica: Replica::restore(saved.unsent),
            epoch: 0,
            phase: Phase::Offline,
            welcome: None,
            arriving: None,
        }
    }

    /// What to keep across a reload.
    pub fn saved(&self) -> Saved {
        Saved { client: self.client.clone(), unsent: self.replica.unsent() }
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
        self.arriving = None;
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
        // The server would refuse it without saying which change it was.
        if let Change::Batch { changes } = &change
            && (changes.len() > ALWAYS_FITS_PARTS || change.may_be_long())
            && in_parts(changes).len() > MAX_PARTS as usize
        {
            return Err(ChangeError::BatchSize(changes.len()));
        }
        if self.phase != Phase::Live {
            let op = self.replica.local_unsent(change)?;
            return Ok(Made { op, send: Vec::new() });
        }
        let op = self.replica.local(change.clone())?;
        Ok(Made { op, send: ClientMsg::for_change(op, change) })
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
            ServerMsg::AppliedPart { seq, part, parts, changes, op, by } => {
                let fits = match &self.arriving {
                    None => part == 0,
                    Some(a) => a.seq == seq && a.parts == parts && a.received == part,
                };
                if !fits || self.phase != Phase::Live {
                    return self.resync(ReplicaError::OutOfOrder { expected: self.replica.seq() + 1, got: seq });
                }
                let arriving =
                    self.arriving.get_or_insert_with(|| Arriving { seq, parts, received: 0, changes: Vec::new() });
                arriving.changes.extend(changes);
                arriving.received += 1;
                match self.arriving.take_if(|a| a.received == a.parts) {
                    Some(whole) => self.receive(ServerMsg::Applied {
                        seq,
                        change: Change::Batch { changes: whole.changes },
                        op,
                        by,
                    }),
                    None => Event::Arriving,
                }
            }
            ServerMsg::Applied { seq, change, op, by } => {
                if self.phase != Phase::Live || self.arriving.is_some() {
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
            ServerMsg::MemberCount { members } => Event::Members(members),
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
            // Not refused for what it is, only for now: it stays, and goes again
            // after the next answer to hello (the page reconnects, with backoff).
            ServerMsg::Error { code: ErrorCode::Busy, message, op } => {
                Event::Refused { code: ErrorCode::Busy, message, op }
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
            // Its code, not its sentence: the wording of refusals stays out of the browser's bundle.
            Err(e) => self.resync(ReplicaError::BadBoard(ErrorCode::for_change_error(&e).as_str().to_owned())),
        }
    }

    fn joined(&mut self, members: u32, caught_up: bool) -> Event {
        self.phase = Phase::Live;
        let resend = self.replica.pending().flat_map(|(op, change)| ClientMsg::for_change(*op, change.clone()));
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
mod tests;
