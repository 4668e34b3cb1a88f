//! A real PostgreSQL server for a test (Debian's, `scripts/setup.sh --tests`
//! installs it): a fresh cluster made by `initdb` in the test's temporary
//! folder, on a free loopback port, its socket in that folder too. PostgreSQL
//! refuses to run as root, so as root it runs as the `postgres` user. A test
//! that needs it fails loudly when it cannot start.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::redis::free_port;

pub(crate) struct PgServer {
    data: PathBuf,
    bin: PathBuf,
    /// The server's options (port, socket folder, address), kept for a restart.
    options: String,
    pub url: String,
}

/// Debian's PostgreSQL binaries (`/usr/lib/postgresql/<version>/bin`), the newest.
fn binaries() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (scripts/setup.sh --tests)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    found.sort();
    found.pop().expect("a PostgreSQL with initdb")
}

/// `program` with `args`, as the `postgres` user when this is root.
fn run(program: &Path, args: &[&str]) -> Command {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let mut cmd = if root { Command::new("runuser") } else { Command::new(program) };
    if root {
        cmd.args(["-u", "postgres", "--"]).arg(program);
    }
    cmd.args(args);
    cmd
}

impl PgServer {
    pub(crate) fn start(dir: &Path) -> PgServer {
        let bin = binaries();
        let (data, port) = (dir.join("pg"), free_port());
        std::fs::create_dir_all(&data).expect("a data folder");
        let chown = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir).status();
        // Not root: the folder is ours already.
        let _ = chown;
        // The temporary folder is private to its maker; PostgreSQL must reach into it.
        let _ = Command::new("chmod").arg("755").arg(dir).status();
        let data_s = data.to_str().expect("a UTF-8 path");
        let made = run(&bin.join("initdb"), &["-D", data_s, "-U", "postgres", "--auth=trust", "-E", "UTF8"])
            .stdout(std::process::Stdio::null())
            .status()
            .expect("initdb runs");
        assert!(made.success(), "initdb made a cluster in {data_s}");
        let options = format!("-p {port} -k {data_s} -c listen_addresses=127.0.0.1");
        let log = data.join("server.log");
        let started = run(
            &bin.join("pg_ctl"),
            &["-D", data_s, "-o", &options, "-l", log.to_str().unwrap_or_default(), "-w", "start"],
        )
        .stdout(std::process::Stdio::null())
        .status()
        .expect("pg_ctl runs");
        assert!(started.success(), "PostgreSQL started on port {port} (see {})", log.display());
        PgServer { data, bin, options, url: format!("postgresql://postgres@127.0.0.1:{port}/postgres") }
    }

    /// Stops it at once (`-m immediate`: no shutdown checkpoint, as a crash)
    /// and starts it again on its files.
    pub(crate) fn restart(&self) {
        let data = self.data.to_str().expect("a UTF-8 path");
        let log = self.data.join("server.log");
        let args = ["-D", data, "-o", &self.options, "-l", log.to_str().unwrap_or_default(), "-m", "immediate", "-w"];
        let restarted = run(&self.bin.join("pg_ctl"), &[&["restart"][..], &args].concat())
            .stdout(std::process::Stdio::null())
            .status()
            .expect("pg_ctl runs");
        assert!(restarted.success(), "PostgreSQL restarted (see {})", log.display());
    }

    /// A query's result as `psql` prints it unaligned, tuples only.
    pub(crate) fn psql(&self, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-A", "-t", "-d", &self.url, "-c", sql])
            .output()
            .expect("psql runs");
        assert!(out.status.success(), "psql: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.data.to_str().unwrap_or_default();
        let _ = run(&self.bin.join("pg_ctl"), &["-D", data, "-m", "immediate", "stop"])
            .stdout(std::process::Stdio::null())
            .status();
    }
}
