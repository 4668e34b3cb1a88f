//! A batch of commands, as the room actor handles it: each command in
//! arrival order, changes judged and staged, then recorded in one commit
//! (`flush`) and only then sent. `actor.rs` is the room's life around it.

use std::sync::atomic::Ordering;

use tokio::time::Instant;

use super::actor::Room;
use super::commands::{JoinError, RoomCmd};
use super::conn_id::ConnId;
use super::state::{Author, Judged};
use crate::server::metrics::{Code, Why};
use crate::server::storage::StoreError;
use sketchboard_core::model::Change;
use sketchboard_core::protocol::ErrorCode;

/// Rounds of "another appender got there first" a batch may lose before the
/// room resyncs (several nodes; see `follow.rs`).
const CONFLICT_RETRIES: usize = 8;

impl Room {
    /// Handles commands in arrival order. Changes are staged (applied to the
    /// board, not yet visible to anyone) and flushed as one commit before any
    /// join or leave, so a joiner's snapshot never shows an unrecorded change.
    pub(super) async fn handle_batch(&mut self, batch: Vec<RoomCmd>) -> Result<(), StoreError> {
        for cmd in batch {
            match cmd {
                RoomCmd::Change { member, op, change, keep } => {
                    self.stage(member, op, change);
                    // Taken in: what it held for the change is free again.
                    drop(keep);
                }
                RoomCmd::Tail => {
                    self.flush().await?;
                    self.follow_log().await?;
                }
                RoomCmd::Join { member, client, network, at, viewer, out, reply } => {
                    self.flush().await?;
                    // A writer is served where the room is owned; a viewer anywhere.
                    if !viewer {
                        match self.own().await {
                            Ok(Ok(_)) => {}
                            Ok(Err(owner)) => {
                                let _ = reply.send(Err(JoinError::Elsewhere(owner.node.name)));
                                continue;
                            }
                            Err(e) => {
                                let _ = reply.send(Err(JoinError::LoadFailed(e.into())));
                                continue;
                            }
                        }
                    }
                    // A joiner on this node sees what every node recorded.
                    self.follow_log().await?;
                    self.note_opened();
                    let _ = reply.send(self.join(member, client, network, at, viewer, out));
                }
                RoomCmd::Leave { member } => {
                    self.flush().await?;
                    self.leave(member);
                }
                RoomCmd::Own { reply } => {
                    self.flush().await?;
                    let _ = reply.send(match self.own().await {
                        Ok(Ok(_)) => Ok(None),
                        Ok(Err(owner)) => Ok(Some(owner)),
                        Err(e) => Err(JoinError::LoadFailed(e.into())),
                    });
                }
                RoomCmd::Stop => {
                    self.flush().await?;
                    let everyone: Vec<ConnId> = self.members.keys().copied().collect();
                    self.drop_members(everyone);
                    self.stopping = true;
                }
                RoomCmd::GiveWay => {
                    self.flush().await?;
                    tracing::info!(room = %self.name, "giving its place to a new room; closing its members");
                    let everyone: Vec<ConnId> = self.members.keys().copied().collect();
                    self.drop_members(everyone);
                }
            }
        }
        self.flush().await?;
        // Else the run loop tells it when due.
        if self.count.may_tell() {
            self.tell_member_count();
        }
        Ok(())
    }

    /// Judges a member's change and stages it (see `RoomState::stage`).
    pub(super) fn stage(&mut self, member: ConnId, op: u64, change: Change) {
        let Some(m) = self.members.get(&member) else {
            // Its connection left while the change was queued.
            return;
        };
        let author = Author {
            member,
            client: m.client.clone(),
            network: m.network,
            by: self.shared.room_presence.person_of(member.0),
        };
        self.judge(author, op, change);
    }

    pub(super) fn judge(&mut self, author: Author, op: u64, change: Change) {
        let (fairness, network) = (&self.shared.fairness, author.network);
        let may_store = || fairness.create_room(network).map_err(|e| e.to_string());
        if let Judged::Refused(code) = self.state.stage(author, op, change, may_store) {
            let metrics = &self.shared.metrics;
            if code == ErrorCode::TooManyRooms {
                metrics.limited.get_or_create(&Why { why: "rooms_created" }).inc();
            }
            metrics.changes_refused.get_or_create(&Code { code: code.as_str().into() }).inc();
        }
    }

    /// Records what is staged, then sends it. If recording fails, the room
    /// reloads itself (dropping whatever was not recorded) and closes every
    /// member's connection for a resync; only if the reload fails too does
    /// the room give up. When another appender got there first, the room
    /// catches up with the log and judges the same changes again; a room that
    /// keeps losing that race resyncs as above.
    pub(super) async fn flush(&mut self) -> Result<(), StoreError> {
        for _ in 0..CONFLICT_RETRIES {
            let Some(mut commit) = self.state.commit(Instant::now().into_std()) else { return Ok(()) };
            let recorded = match commit.append.take() {
                Some(mut append) => match self.own().await {
                    Ok(Ok(epoch)) => {
                        append.lease = Some(epoch);
                        self.shared.store.append(&self.name, append).await
                    }
                    Ok(Err(owner)) => Err(StoreError::Fenced { owner: owner.node.name }),
                    Err(e) => Err(e),
                },
                None => Ok(()),
            };
            match recorded {
                Ok(()) => {
                    self.shared.metrics.changes_accepted.inc_by(commit.accepted() as u64);
                    let out = self.state.recorded(commit, Instant::now().into_std());
                    let shapes = u32::try_from(self.state.board().len()).unwrap_or(u32::MAX);
                    self.stats.shapes.store(shapes, Ordering::Relaxed);
                    self.stats.changed.store(self.state.seq() > 0, Ordering::Relaxed);
                    // All at once: a caught-up member's socket takes the batch in one write.
                    self.feed.extend(out);
                    return Ok(());
                }
                Err(e) if e.lost_race() => {
                    self.shared.metrics.append_races.inc();
                    self.catch_up_and_judge_again(commit).await?
                }
                Err(StoreError::Rewound { .. }) => return self.rewound().await,
                Err(StoreError::Fenced { owner }) => return self.fenced(&owner).await,
                Err(e) => {
                    tracing::error!(room = %self.name, error = %e, "could not record changes; reloading and resyncing members");
                    return self.reload_and_resync().await;
                }
            }
        }
        tracing::error!(room = %self.name, "kept losing the race to append; reloading and resyncing members");
        self.reload_and_resync().await
    }
}
