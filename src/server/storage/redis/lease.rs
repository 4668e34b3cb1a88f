//! Rooms' leases in Redis (`storage::lease`): the `sb_claim`, `sb_release`
//! and `sb_owner` Functions on the room's `owner` hash and `lease` key, in the
//! room's slot, so that `sb_append` checks the owner in the same atomic step
//! as it appends.

use redis::Value;

use super::keys::{failed, keys};
use super::store::RedisStore;
use crate::server::storage::{Claim, Node, Owner, StoreError};
use sketchboard_core::model::RoomName;

impl RedisStore {
    /// `RoomStore::claim`: a new epoch (`held`: `None`) or a renewal.
    pub(super) async fn claim_lease(&self, room: &RoomName, held: Option<u64>) -> Result<Claim, StoreError> {
        let Some(leases) = &self.leases else { return Ok(Claim::Mine { epoch: 0, lasts: None }) };
        let (node, lasts) = (&leases.0, leases.1);
        let k = keys(room);
        let mut call = self.link.fcall("sb_claim");
        call.arg(2).arg(&k.owner).arg(&k.lease).arg(&node.name).arg(&node.address).arg(lasts.as_millis() as u64);
        call.arg(held.map(|e| e.to_string()).unwrap_or_default());
        // A claim must outlive a failover like an append does, or a replica
        // promoted without it would let a second node claim the same epoch.
        let (reply, replicated): (Vec<Value>, _) =
            self.link.call_durable(&call).await.map_err(failed("claiming a room's lease"))?;
        let corrupt = || StoreError::Corrupt { room: room.to_string(), detail: format!("sb_claim answered {reply:?}") };
        match text(&reply, 0).as_deref() {
            Some("mine") => {
                replicated.check().map_err(failed("claiming a room's lease"))?;
                Ok(Claim::Mine { epoch: number(&reply, 1).ok_or_else(corrupt)?, lasts: Some(lasts) })
            }
            Some("theirs") => Ok(Claim::Theirs(self.owner_from(&reply[1..]).ok_or_else(corrupt)?)),
            _ => Err(corrupt()),
        }
    }

    /// `RoomStore::release`.
    pub(super) async fn release_lease(&self, room: &RoomName, epoch: u64) -> Result<(), StoreError> {
        let Some(leases) = &self.leases else { return Ok(()) };
        let k = keys(room);
        let call =
            self.link.fcall("sb_release").arg(2).arg(&k.owner).arg(&k.lease).arg(&leases.0.name).arg(epoch).clone();
        let _: i64 = self.link.call(&call).await.map_err(failed("releasing a room's lease"))?;
        Ok(())
    }

    /// `RoomStore::owner`.
    pub(super) async fn read_owner(&self, room: &RoomName) -> Result<Option<Owner>, StoreError> {
        let k = keys(room);
        let call = self.link.fcall("sb_owner").arg(2).arg(&k.owner).arg(&k.lease).clone();
        let reply: Vec<Value> = self.link.call(&call).await.map_err(failed("reading a room's owner"))?;
        let owner = self.owner_from(&reply).ok_or_else(|| StoreError::Corrupt {
            room: room.to_string(),
            detail: format!("sb_owner answered {reply:?}"),
        })?;
        Ok((owner.epoch > 0).then_some(owner))
    }

    /// An owner from `{node, address, epoch, live}`.
    fn owner_from(&self, reply: &[Value]) -> Option<Owner> {
        let node = Node { name: text(reply, 0)?, address: text(reply, 1)? };
        let here = self.leases.as_ref().is_some_and(|l| l.0.name == node.name);
        Some(Owner { node, epoch: number(reply, 2)?, live: number(reply, 3)? == 1, here })
    }

    /// This node's name and the epoch it appends under, as `sb_append` takes
    /// them ('' and '' outside the leases).
    pub(super) fn fence(&self, lease: Option<u64>) -> (String, String) {
        match (&self.leases, lease) {
            (Some(leases), Some(epoch)) => (leases.0.name.clone(), epoch.to_string()),
            _ => (String::new(), String::new()),
        }
    }
}

fn text(reply: &[Value], i: usize) -> Option<String> {
    reply.get(i).and_then(|v| redis::from_redis_value_ref::<String>(v).ok())
}

fn number(reply: &[Value], i: usize) -> Option<u64> {
    reply.get(i).and_then(|v| redis::from_redis_value_ref::<u64>(v).ok())
}
