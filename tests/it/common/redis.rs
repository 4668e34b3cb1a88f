//! A real `redis-server` for a test: on a free loopback port, its files in
//! the test's temporary folder, configured as production is (append-only
//! file fsync'd on every write, no eviction). It must be installed
//! (`scripts/setup.sh --tests` installs it): a test that needs it fails
//! loudly rather than skip.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use super::{PATIENCE, TestServer};

/// A node of several sharing `redis`, with its own SQLite file in `dir`.
pub(crate) async fn node(dir: &tempfile::TempDir, redis: &RedisServer) -> TestServer {
    let url = redis.url.clone();
    TestServer::start_with(dir, move |c| c.redis_url = Some(url)).await
}

pub(crate) struct RedisServer {
    child: Option<Child>,
    dir: PathBuf,
    port: u16,
    pub url: String,
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

impl RedisServer {
    pub(crate) fn start(dir: &Path) -> RedisServer {
        let port = free_port();
        let mut server =
            RedisServer { child: None, dir: dir.to_owned(), port, url: format!("redis://127.0.0.1:{port}") };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string(), "--dir"])
            .arg(&self.dir)
            .args(["--appendonly", "yes", "--appendfsync", "always", "--save", "", "--maxmemory-policy", "noeviction"])
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
