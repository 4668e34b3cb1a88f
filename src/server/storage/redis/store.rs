//! The Redis store's handle: the shared connection, with the Functions
//! loaded and the key every node pseudonymises addresses with.

use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use redis::AsyncCommands;

use super::keys::failed;
use crate::server::redis_link::{Conn, RedisLink};
use crate::server::storage::archive::Archiving;
use crate::server::storage::{Node, StoreError};

/// The Functions library, loaded (or replaced) when a node connects.
const LIBRARY: &str = include_str!("functions.lua");

/// The random key every node pseudonymises addresses with, made by the first node to ask.
async fn shared_address_key(conn: &mut Conn) -> Result<[u8; 16], StoreError> {
    const KEY: &str = "sb:address-key";
    let mine = format!("{:032x}", rand::random::<u128>());
    let _: Option<String> = redis::cmd("SET")
        .arg(KEY)
        .arg(&mine)
        .arg("NX")
        .query_async(conn)
        .await
        .map_err(failed("making the address key"))?;
    let kept: String = conn.get(KEY).await.map_err(failed("reading the address key"))?;
    let key = u128::from_str_radix(&kept, 16).map_err(|e| StoreError::Corrupt {
        room: KEY.to_owned(),
        detail: format!("the address key is not 32 hex digits: {e}"),
    })?;
    Ok(key.to_le_bytes())
}

/// The rooms' logs in Redis; cheap to clone.
#[derive(Clone)]
pub(crate) struct RedisStore {
    pub(super) link: RedisLink,
    /// The key of the addresses' pseudonyms, shared by every node (`sb:address-key`).
    pub(super) address_key: [u8; 16],
    /// When this node last made the lobby forget its old rooms.
    pub(super) lobby_tidied: Arc<AtomicI64>,
    /// This node and how long its leases on rooms last (`lease.rs`); `None`
    /// for a store outside the leases (the copy tool), whose appends are not fenced.
    pub(super) leases: Option<Arc<(Node, std::time::Duration)>>,
    /// Where the log's older changes go, and how many stay here (`archiving.rs`).
    pub(super) archiving: Option<Arc<Archiving>>,
}

impl RedisStore {
    /// The store on `link`'s Redis, with its Functions loaded.
    pub(crate) async fn new(link: RedisLink) -> Result<RedisStore, StoreError> {
        link.load_functions(LIBRARY).await?;
        let address_key = shared_address_key(&mut link.conn()).await?;
        Ok(RedisStore { link, address_key, lobby_tidied: Default::default(), leases: None, archiving: None })
    }

    /// The store of a node serving rooms: it claims rooms as `node`, for `lease` at a time.
    pub(crate) fn leased_by(mut self, node: Node, lease: std::time::Duration) -> RedisStore {
        self.leases = Some(Arc::new((node, lease)));
        self
    }

    /// The store of rooms whose logs keep `hot_tail` changes in Redis and the
    /// rest in `archive`.
    pub(crate) fn archived_to(
        mut self,
        archive: crate::server::storage::archive::Archive,
        hot_tail: u64,
    ) -> RedisStore {
        self.archiving = Some(Arc::new(Archiving::new(archive, hot_tail)));
        self
    }

    pub(super) fn conn(&self) -> Conn {
        self.link.conn()
    }
}
