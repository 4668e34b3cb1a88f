//! A real `redis-server` for a test: on a free loopback port, its files in
//! the test's temporary folder, configured as production is (append-only
//! file fsync'd on every write, no eviction); or a real Redis Cluster of
//! three of them. It must be installed (`scripts/setup.sh --tests` installs
//! it): a test that needs it fails loudly rather than skip.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use super::{PATIENCE, TestServer};

/// A node of several sharing `redis`, with its own SQLite file in `dir`.
pub(crate) async fn node(dir: &tempfile::TempDir, redis: &RedisServer) -> TestServer {
    node_at(dir, &redis.url).await
}

/// A node of several sharing the Redis (or Redis Cluster) at `url`.
pub(crate) async fn node_at(dir: &tempfile::TempDir, url: &str) -> TestServer {
    let url = url.to_owned();
    TestServer::start_with(dir, move |c| c.redis_url = Some(url)).await
}

pub(crate) struct RedisServer {
    child: Option<Child>,
    dir: PathBuf,
    port: u16,
    /// Arguments beyond production's (a cluster's).
    extra: Vec<String>,
    pub url: String,
}

pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

impl RedisServer {
    pub(crate) fn start(dir: &Path) -> RedisServer {
        RedisServer::start_with(dir, &[])
    }

    pub(crate) fn start_with(dir: &Path, extra: &[&str]) -> RedisServer {
        let port = free_port();
        let extra = extra.iter().map(|a| (*a).to_owned()).collect();
        let url = format!("redis://127.0.0.1:{port}");
        let mut server = RedisServer { child: None, dir: dir.to_owned(), port, extra, url };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string(), "--dir"])
            .arg(&self.dir)
            .args(["--appendonly", "yes", "--appendfsync", "always", "--save", "", "--maxmemory-policy", "noeviction"])
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("redis-server could not start ({e}): scripts/setup.sh --tests installs it"));
        self.child = Some(child);
        let deadline = Instant::now() + PATIENCE;
        while !self.answers() {
            assert!(Instant::now() < deadline, "redis-server did not answer on port {} within {PATIENCE:?}", self.port);
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    fn answers(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else { return false };
        let mut buf = [0u8; 7];
        s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
    }

    /// SIGKILL: no chance to write anything more.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The port it listens on.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// SIGSTOP (`pause`) or SIGCONT (`resume`): a server that hangs, then wakes.
    pub(crate) fn signal(&self, signal: &str) {
        let Some(child) = &self.child else { return };
        let sent = Command::new("kill").args([signal, &child.id().to_string()]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill {signal} failed");
    }

    /// Waits until this server, a replica, is in step with its primary.
    pub(crate) fn wait_until_replicating(&self) {
        let deadline = Instant::now() + PATIENCE;
        while !self.cli(&["INFO", "replication"]).contains("master_link_status:up") {
            assert!(
                Instant::now() < deadline,
                "the replica on port {} did not catch up within {PATIENCE:?}",
                self.port
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// What `redis-cli` answers to `args` (the first line of a list's items, joined by new lines).
    pub(crate) fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("redis-cli could not run ({e}): scripts/setup.sh --tests installs it"));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Starts it again on the same files and port.
    pub(crate) fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A Redis Cluster on loopback: three primaries, each with `replicas`
/// replicas, every one a real `redis-server` configured as production is,
/// with every slot assigned.
pub(crate) struct RedisCluster {
    pub(crate) servers: Vec<RedisServer>,
    /// The addresses of its nodes, as `--redis-url` takes them.
    pub url: String,
}

impl RedisCluster {
    pub(crate) fn start(dir: &Path) -> RedisCluster {
        RedisCluster::start_replicated(dir, 0)
    }

    pub(crate) fn start_replicated(dir: &Path, replicas: usize) -> RedisCluster {
        let servers: Vec<RedisServer> = (0..3 * (1 + replicas))
            .map(|i| {
                let dir = dir.join(format!("server-{i}"));
                std::fs::create_dir_all(&dir).expect("a folder for a server");
                let cluster = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"];
                RedisServer::start_with(&dir, &[&cluster[..], &["--cluster-node-timeout", "2000"]].concat())
            })
            .collect();
        let addresses: Vec<String> = servers.iter().map(|p| format!("127.0.0.1:{}", p.port)).collect();
        let made = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .output()
            .unwrap_or_else(|e| panic!("redis-cli could not run ({e}): scripts/setup.sh --tests installs it"));
        assert!(made.status.success(), "redis-cli --cluster create failed: {}", String::from_utf8_lossy(&made.stdout));
        let url = addresses.iter().map(|a| format!("redis://{a}")).collect::<Vec<_>>().join(",");
        let cluster = RedisCluster { servers, url };
        cluster.wait_until_ready();
        cluster
    }

    /// Waits until every server knows the whole map and every replica is in
    /// step with its primary, as a client needs (after a start or a restart).
    pub(crate) fn wait_until_ready(&self) {
        let first = format!("127.0.0.1:{}", self.servers[0].port);
        let deadline = Instant::now() + PATIENCE;
        let ready = |s: &RedisServer| {
            let replication = s.cli(&["INFO", "replication"]);
            s.cli(&["CLUSTER", "INFO"]).contains("cluster_state:ok")
                && (replication.contains("role:master") || replication.contains("master_link_status:up"))
        };
        let agreed = || {
            let check = Command::new("redis-cli").args(["--cluster", "check", &first]).output();
            check.is_ok_and(|c| c.status.success())
        };
        while !self.servers.iter().all(ready) || !agreed() {
            assert!(Instant::now() < deadline, "the Redis Cluster did not come up within {PATIENCE:?}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Which of `servers` is the running primary holding `key`'s slot, if one does.
    fn holder(&self, key: &str) -> Option<usize> {
        let alive: Vec<&RedisServer> = self.servers.iter().filter(|s| s.child.is_some()).collect();
        let slot: u16 = alive[0].cli(&["CLUSTER", "KEYSLOT", key]).parse().expect("a slot number");
        let owns = |p: &RedisServer| {
            let nodes = p.cli(&["CLUSTER", "NODES"]);
            let mine = nodes.lines().find(|l| l.contains("myself,master")).unwrap_or_default().to_owned();
            mine.split_whitespace().skip(8).any(|range| {
                let (from, to) = range.split_once('-').unwrap_or((range, range));
                matches!((from.parse::<u16>(), to.parse::<u16>()), (Ok(f), Ok(t)) if (f..=t).contains(&slot))
            })
        };
        self.servers.iter().position(|s| s.child.is_some() && owns(s))
    }

    /// Which of `servers` is the primary holding `key`'s slot now.
    fn primary_index(&self, key: &str) -> usize {
        self.holder(key).expect("a primary holds every slot")
    }

    /// Whether a running primary holds `key`'s slot and it is not `servers[not]`
    /// (during a failover, for a moment, none does).
    pub(crate) fn taken_over(&self, key: &str, not: usize) -> bool {
        self.holder(key).is_some_and(|at| at != not)
    }

    /// The primary that holds `key`'s slot now.
    pub(crate) fn primary_of(&self, key: &str) -> &RedisServer {
        &self.servers[self.primary_index(key)]
    }

    /// Moves every slot of primary `from` to primary `to`, with their keys
    /// (`redis-cli --cluster reshard`), as an operator rebalancing does.
    pub(crate) fn move_slots(from: &RedisServer, to: &RedisServer) {
        let nodes = from.cli(&["CLUSTER", "NODES"]);
        let mine = nodes.lines().find(|l| l.contains("myself")).unwrap_or_default().to_owned();
        let count = |range: &str| -> Option<u32> {
            let (a, b) = range.split_once('-').unwrap_or((range, range));
            Some(b.parse::<u32>().ok()? - a.parse::<u32>().ok()? + 1)
        };
        let slots: u32 = mine.split_whitespace().skip(8).filter_map(count).sum();
        let moved = Command::new("redis-cli")
            .args(["--cluster", "reshard", &format!("127.0.0.1:{}", from.port)])
            .args(["--cluster-from", &from.cli(&["CLUSTER", "MYID"]), "--cluster-to", &to.cli(&["CLUSTER", "MYID"])])
            .args(["--cluster-slots", &slots.to_string(), "--cluster-yes"])
            .output()
            .unwrap_or_else(|e| panic!("redis-cli could not run ({e})"));
        assert!(moved.status.success(), "resharding failed: {}", String::from_utf8_lossy(&moved.stdout));
    }

    /// SIGKILLs the primary that holds `key`'s slot; answers which server it was.
    pub(crate) fn kill_primary_of(&mut self, key: &str) -> usize {
        let at = self.primary_index(key);
        self.servers[at].kill();
        at
    }
}
