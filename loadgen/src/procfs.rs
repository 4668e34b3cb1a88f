//! The server's CPU time and memory, read from `/proc/<pid>` (Linux only).
//!
//! CPU is utime + stime from `/proc/<pid>/stat`; memory is VmRSS (now) and
//! VmHWM (the peak) from `/proc/<pid>/status`; what reached the disk is
//! `write_bytes` of `/proc/<pid>/io` (needs the right to read it: the same user).

use anyhow::{Context, bail};

use super::report::{Report, ServerUse};

/// The unit of the times in `/proc/<pid>/stat`. The kernel reports them in
/// USER_HZ, a fixed part of its user-space ABI: 100 on x86 and ARM (check
/// with `getconf CLK_TCK`). Hard-coded to avoid an `unsafe` sysconf call.
const TICKS_PER_SECOND: f64 = 100.0;

/// One reading of a process.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    pub cpu_seconds: f64,
    pub rss_kib: u64,
    pub peak_rss_kib: u64,
    /// Bytes the process caused to be written to storage, if readable.
    pub written_bytes: Option<u64>,
}

pub(crate) fn sample(pid: u32) -> anyhow::Result<Sample> {
    let stat_path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&stat_path).with_context(|| format!("reading {stat_path}"))?;
    // The command name (field 2) is in parentheses and may itself contain
    // spaces and parentheses: count fields from the last ')'.
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).context("no ')' in /proc/PID/stat")?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 (utime, stime); fields[0] here is field 3.
    let ticks = |field: usize| -> anyhow::Result<u64> {
        let text = fields.get(field - 3).with_context(|| format!("field {field} missing from {stat_path}"))?;
        text.parse().with_context(|| format!("field {field} of {stat_path} is not a number: {text:?}"))
    };
    let cpu_seconds = (ticks(14)? + ticks(15)?) as f64 / TICKS_PER_SECOND;

    let status_path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&status_path).with_context(|| format!("reading {status_path}"))?;
    let kib = |key: &str| -> anyhow::Result<u64> {
        let Some(line) = status.lines().find_map(|l| l.strip_prefix(key)) else {
            bail!("{key} missing from {status_path}");
        };
        let number = line.trim_start_matches(':').trim().trim_end_matches("kB").trim();
        number.parse().with_context(|| format!("{key} in {status_path} is not a number: {number:?}"))
    };
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok();
    let written_bytes = io
        .as_deref()
        .and_then(|io| io.lines().find_map(|l| l.strip_prefix("write_bytes:")).and_then(|n| n.trim().parse().ok()));
    Ok(Sample { cpu_seconds, rss_kib: kib("VmRSS")?, peak_rss_kib: kib("VmHWM")?, written_bytes })
}

/// Resets the process's peak RSS (VmHWM) to its current RSS, so that the next
/// reading shows the peak of what follows. Needs permission to write the
/// process's `clear_refs` (its owner or root).
pub(crate) fn reset_peak(pid: u32) -> anyhow::Result<()> {
    let path = format!("/proc/{pid}/clear_refs");
    std::fs::write(&path, "5").with_context(|| format!("writing 5 to {path}"))
}

/// Watches the server (if its pid was given; several processes' use added
/// up, e.g. two nodes and their Redis) and the generator itself during one
/// scenario: the generator shares the machine, so its own CPU time says how
/// much of the machine the server had.
pub(crate) struct Watch {
    pids: Vec<u32>,
    first: Option<Sample>,
    peak_reset: bool,
}

/// The processes' use, added up (peaks too: an upper bound of the joint peak).
fn sample_all(pids: &[u32]) -> anyhow::Result<Option<Sample>> {
    let mut total: Option<Sample> = None;
    for &pid in pids {
        let s = sample(pid)?;
        total = Some(match total {
            None => s,
            Some(t) => Sample {
                cpu_seconds: t.cpu_seconds + s.cpu_seconds,
                rss_kib: t.rss_kib + s.rss_kib,
                peak_rss_kib: t.peak_rss_kib + s.peak_rss_kib,
                written_bytes: t.written_bytes.zip(s.written_bytes).map(|(a, b)| a + b),
            },
        });
    }
    Ok(total)
}

/// One reading of both processes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reading {
    server: Option<Sample>,
    own_cpu_seconds: f64,
}

impl Watch {
    /// Resets the server's peak RSS and takes the first reading.
    pub(crate) fn start(pids: &[u32]) -> anyhow::Result<Watch> {
        let mut peak_reset = !pids.is_empty();
        for &pid in pids {
            if let Err(e) = reset_peak(pid) {
                tracing::warn!(error = format!("{e:#}"), "peak RSS is the server's lifetime peak");
                peak_reset = false;
            }
        }
        Ok(Watch { pids: pids.to_vec(), first: sample_all(pids)?, peak_reset })
    }

    pub(crate) fn read(&self) -> anyhow::Result<Reading> {
        let own_cpu_seconds = sample(std::process::id())?.cpu_seconds;
        Ok(Reading { server: sample_all(&self.pids)?, own_cpu_seconds })
    }

    /// Fills in the report's CPU figures between `from` and `to`, and the
    /// server's memory from the first reading to `to`.
    pub(crate) fn report(&self, from: Reading, to: Reading, report: &mut Report) {
        report.loadgen_cpu_seconds = Some(to.own_cpu_seconds - from.own_cpu_seconds);
        let (Some(first), Some(from), Some(to)) = (self.first, from.server, to.server) else { return };
        report.server = Some(ServerUse {
            cpu_seconds: to.cpu_seconds - from.cpu_seconds,
            peak_rss_kib: to.peak_rss_kib,
            peak_reset: self.peak_reset,
            rss_before_kib: first.rss_kib,
            rss_after_kib: to.rss_kib,
            written_bytes: to.written_bytes.zip(from.written_bytes).map(|(to, from)| to.saturating_sub(from)),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let me = sample(std::process::id()).unwrap();
        assert!(me.rss_kib > 0 && me.peak_rss_kib >= me.rss_kib, "{me:?}");
    }
}
