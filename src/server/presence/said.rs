//! What nodes say to each other about a room's presence (over the room's
//! Redis Pub/Sub channel, never stored): each node what its own tabs do,
//! with its name, so the others can keep it apart from theirs.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How often a node names who it still has.
pub(super) const ALIVE_EVERY: Duration = Duration::from_secs(2);

/// What one node says about its own tabs.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub(super) enum Said {
    /// A person is here (or renamed): their `person` message.
    Person {
        id: u32,
        said: String,
    },
    PersonLeft {
        id: u32,
    },
    /// A tab's pointer (or selection): the message, with the tab's global number.
    Tab {
        tab: u64,
        pointer: bool,
        said: String,
    },
    TabLeft {
        tab: u64,
    },
    /// Who this node still has.
    Alive {
        people: Vec<u32>,
        tabs: Vec<u64>,
    },
    /// Everyone, say everything again (a node started listening, or missed something).
    Roll,
}

/// `Said`, with the name of the node that says it.
#[derive(Serialize, Deserialize)]
pub(super) struct Envelope {
    pub node: String,
    #[serde(flatten)]
    pub said: Said,
}
