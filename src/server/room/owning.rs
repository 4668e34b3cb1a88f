//! This node's ownership of its room (`storage::lease`): a room appends only
//! while this node owns it. A writer's join claims it (a viewer only reads, so
//! any node serves one), the run loop renews it a third of its length at a
//! time, and retiring releases it. When the store says another node took the
//! room (a renewal that failed, an append refused as fenced: this node was
//! paused, or cut off from Redis, longer than its lease), the room drops what
//! it had not recorded and closes its members' connections: they resume on
//! the new owner, where their unconfirmed changes are sent again.

use std::sync::atomic::Ordering;

use tokio::time::Instant;

use super::actor::Room;
use super::lease::{Held, RETRY_RENEWAL};
use crate::server::storage::{Claim, Owner, StoreError};

impl Room {
    /// Makes sure this node owns the room before a writer joins or a change
    /// is recorded: claims it if no lease is held. Answers the lease's epoch,
    /// or the node whose live lease keeps this one out (the writer then
    /// resumes through that owner).
    pub(super) async fn own(&mut self) -> Result<Result<u64, Owner>, StoreError> {
        if let Some(held) = self.lease {
            return Ok(Ok(held.epoch));
        }
        Ok(match self.shared.store.claim(&self.name, None).await? {
            Claim::Mine { epoch, lasts } => {
                if epoch > 0 {
                    tracing::info!(room = %self.name, epoch, "this node owns the room now");
                }
                self.lease = Some(Held::from(epoch, lasts));
                self.stats.owned.store(true, Ordering::Relaxed);
                Ok(epoch)
            }
            Claim::Theirs(owner) => Err(owner),
        })
    }

    /// Renews the lease; if another node took the room, lets it go.
    pub(super) async fn renew_lease(&mut self) -> Result<(), StoreError> {
        let Some(held) = self.lease else { return Ok(()) };
        match self.shared.store.claim(&self.name, Some(held.epoch)).await {
            Ok(Claim::Mine { epoch, lasts }) => self.lease = Some(Held::from(epoch, lasts)),
            Ok(Claim::Theirs(owner)) => return self.fenced(&owner.node.name).await,
            Err(e) => {
                tracing::warn!(room = %self.name, error = %e, "could not renew the room's lease; trying again");
                self.lease = Some(Held { renew_at: Some(Instant::now() + RETRY_RENEWAL), ..held });
            }
        }
        Ok(())
    }

    /// Another node owns the room now: nothing more is written from here.
    /// The room reloads what was recorded and closes every member, who
    /// resumes on the owner.
    pub(super) async fn fenced(&mut self, owner: &str) -> Result<(), StoreError> {
        tracing::warn!(room = %self.name, %owner, "another node took the room over; closing its members here");
        self.shared.metrics.leases_lost.inc();
        self.lease = None;
        self.stats.owned.store(false, Ordering::Relaxed);
        self.reload_and_resync().await
    }

    /// Ends the lease as the room retires, so another node may claim it at once.
    pub(super) async fn release_lease(&mut self) {
        let Some(held) = self.lease.take() else { return };
        // Idle now: what is due goes to the archive (the lease still held: archiving is fenced too).
        self.shared.store.settle(&self.name, Some(held.epoch)).await;
        self.stats.owned.store(false, Ordering::Relaxed);
        if let Err(e) = self.shared.store.release(&self.name, held.epoch).await {
            tracing::warn!(room = %self.name, error = %e, "could not release the room's lease (it runs out by itself)");
        }
    }
}
