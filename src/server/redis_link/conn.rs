//! The connection to either one Redis or a Redis Cluster, behind the `redis`
//! crate's `ConnectionLike`, so the store and the peers write every command
//! and pipeline once. Under a cluster, the client sends a pipeline to one
//! slot's primary; a pipeline whose keys sit in several slots (the lobby's
//! keys, the nodes' live counts, what follows an expired room) runs instead as
//! its separate commands, concurrently. Those pipelines were never
//! transactions, so nothing is lost by it; a transaction must stay in one slot.

use futures_util::FutureExt;
use futures_util::future::try_join_all;
use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};

/// A multiplexed connection, cheap to clone.
#[derive(Clone)]
pub(crate) enum Conn {
    /// One Redis (`redis://HOST:PORT`), reconnected when it drops.
    Single(ConnectionManager),
    /// A Redis Cluster: commands go to the primary of their keys' slot.
    Cluster(ClusterConnection),
}

/// One server to send a command to: the one Redis, or a cluster's primary.
#[derive(Clone, Debug)]
pub(crate) struct Primary(Option<(String, u16)>);

impl Conn {
    /// The servers that hold keys: the one Redis, or the cluster's primaries
    /// that are up.
    pub(crate) async fn primaries(&self) -> RedisResult<Vec<Primary>> {
        let Conn::Cluster(c) = self else { return Ok(vec![Primary(None)]) };
        let nodes = redis::cmd("CLUSTER").arg("NODES").clone();
        let random = RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random);
        let listed = c.clone().route_command(nodes, random).await.and_then(Value::extract_error)?;
        let listed: String = redis::from_redis_value(listed)?;
        Ok(primaries_in(&listed).into_iter().map(|p| Primary(Some(p))).collect())
    }

    /// Whether Redis answers: the one Redis, or any node of the cluster (a
    /// shard failing over leaves the others' rooms served, so it must not
    /// make the whole node unhealthy).
    pub(crate) async fn ping(&self) -> RedisResult<()> {
        let ping = redis::cmd("PING");
        let Conn::Cluster(c) = self else { return ping.query_async(&mut self.clone()).await };
        let mut failed = None;
        for _ in 0..3 {
            let random = RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random);
            match c.clone().route_command(ping.clone(), random).await.and_then(Value::extract_error) {
                Ok(_) => return Ok(()),
                Err(e) => failed = Some(e),
            }
        }
        Err(failed.unwrap_or_else(|| (redis::ErrorKind::Io, "no node answered").into()))
    }

    /// Runs `cmd` (one that names no key: `FUNCTION`, `SCAN`) on `primary`.
    /// A refusal is an error, as from one Redis (the cluster client answers
    /// a routed command's refusal as a value).
    pub(crate) async fn on(&self, primary: &Primary, cmd: &Cmd) -> RedisResult<Value> {
        match (self, &primary.0) {
            (Conn::Cluster(c), Some((host, port))) => {
                let to = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress { host: host.clone(), port: *port });
                c.clone().route_command(cmd.clone(), to).await.and_then(Value::extract_error)
            }
            (conn, _) => cmd.query_async(&mut conn.clone()).await,
        }
    }
}

/// The primaries that hold slots, in a `CLUSTER NODES` answer: each line is
/// `id host:port@bus flags master ping pong epoch state slots…`, and such a
/// primary's flags name `master` (not `fail`) and its line ends with slots.
/// (A primary given slots later lacks the Functions until the first call
/// that reaches it loads them: `RedisLink::call`.)
fn primaries_in(listed: &str) -> Vec<(String, u16)> {
    listed
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace().skip(1);
            let (address, flags) = (fields.next()?, fields.next()?);
            let flags: Vec<&str> = flags.split(',').collect();
            let holds_slots = line.split_whitespace().nth(8).is_some();
            if !flags.contains(&"master") || flags.iter().any(|f| f.starts_with("fail")) || !holds_slots {
                return None;
            }
            let (host, port) = address.split('@').next()?.rsplit_once(':')?;
            Some((host.to_owned(), port.parse().ok()?))
        })
        .collect()
}

/// The part of a key that chooses its slot: what is between the first `{`
/// and the next `}` when that is not empty, else the whole key.
pub(super) fn slot_tag(key: &[u8]) -> &[u8] {
    let open = key.iter().position(|&b| b == b'{');
    let close = open.and_then(|o| key[o + 1..].iter().position(|&b| b == b'}').map(|c| o + 1 + c));
    match (open, close) {
        (Some(o), Some(c)) if c > o + 1 => &key[o + 1..c],
        _ => key,
    }
}

/// The key that places `cmd`: an `FCALL`'s first key, none for `WAIT`
/// (it follows the write before it), else the first argument (every other
/// command piped here puts its key first).
fn key_of(cmd: &Cmd) -> Option<&[u8]> {
    let mut args = cmd.args_iter().map(|a| if let redis::Arg::Simple(a) = a { Some(a) } else { None });
    let name = args.next().flatten()?;
    if name.eq_ignore_ascii_case(b"WAIT") {
        return None;
    }
    if name.eq_ignore_ascii_case(b"FCALL") {
        return args.nth(2).flatten();
    }
    args.next().flatten()
}

/// Whether the commands of `pipeline` that name keys name them in one slot.
fn one_slot(pipeline: &Pipeline) -> bool {
    let mut tags = pipeline.cmd_iter().filter_map(key_of).map(slot_tag);
    let Some(first) = tags.next() else { return true };
    tags.all(|tag| tag == first)
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => {
                if pipeline.is_transaction() || one_slot(pipeline) {
                    return c.req_packed_commands(pipeline, offset, count);
                }
                // Each command to its own slot's primary.
                let c: ClusterConnection = c.clone();
                async move {
                    let each = pipeline.cmd_iter().map(|cmd| {
                        let mut c = c.clone();
                        async move { c.req_packed_command(cmd).await }
                    });
                    let replies = try_join_all(each).await?;
                    Ok(replies.into_iter().skip(offset).take(count).collect())
                }
                .boxed()
            }
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keys_slot_is_chosen_by_its_tag() {
        assert_eq!(slot_tag(b"sb:{r1}:log"), b"r1");
        assert_eq!(slot_tag(b"sb:lobby"), b"sb:lobby");
        assert_eq!(slot_tag(b"sb:{}:x"), b"sb:{}:x");
    }

    #[test]
    fn pipelines_over_one_rooms_keys_stay_whole_and_the_lobbys_are_split() {
        let mut room = redis::pipe();
        room.hset("sb:{r1}:meta", "head", 1).xadd("sb:{r1}:log", "1-0", &[("a", "b")]);
        assert!(one_slot(&room));
        let mut lobby = redis::pipe();
        lobby.zadd("sb:lobby", "r1", 1).hset("sb:lobby:shapes", "r1", 3);
        assert!(!one_slot(&lobby));
        // A Function call and the WAIT after it go together, to the room's primary.
        let mut durable = redis::pipe();
        durable.cmd("FCALL").arg("sb_append_v5").arg(2).arg("sb:{r1}:log").arg("sb:{r1}:meta").arg(7);
        durable.cmd("WAIT").arg(1).arg(1000);
        assert!(one_slot(&durable));
    }

    #[test]
    fn the_primaries_are_read_off_cluster_nodes() {
        let listed = "a1 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-5460\n\
                      b2 127.0.0.1:7002@17002 master - 0 0 2 connected 5461-10922\n\
                      c3 127.0.0.1:7003@17003 master,fail - 0 0 3 connected\n\
                      d4 127.0.0.1:7004@17004 slave a1 0 0 1 connected\n\
                      e5 127.0.0.1:7005@17005 master - 0 0 4 connected\n";
        assert_eq!(primaries_in(listed), vec![("127.0.0.1".to_owned(), 7001), ("127.0.0.1".to_owned(), 7002)]);
    }
}
