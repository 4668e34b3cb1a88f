//! Latency histograms and the one-row report each scenario prints, as a
//! Markdown table row or as JSON.

use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// One latency distribution of a run, shared by all its tasks. One lock per
/// sample costs far less than the JSON parsing around it, and spares each of
/// thousands of connections a histogram of its own (tens of KiB each).
pub(crate) struct Latencies(Mutex<Histogram<u64>>);

impl Latencies {
    pub(crate) fn new() -> Latencies {
        // Microseconds from 1 µs to an hour, to 3 significant digits.
        let histogram = Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds");
        Latencies(Mutex::new(histogram))
    }

    pub(crate) fn record(&self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        // A sample is never left half-written, so a poisoned lock is still good.
        self.0.lock().unwrap_or_else(PoisonError::into_inner).saturating_record(micros.max(1));
    }

    /// `None` if nothing was recorded.
    pub(crate) fn summary(&self) -> Option<Summary> {
        let h = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let ms = |micros: u64| micros as f64 / 1000.0;
        (!h.is_empty()).then(|| Summary {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        })
    }
}

impl Default for Latencies {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub count: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

/// The server's use of the machine during a run, from /proc.
#[derive(Debug, Clone, Serialize)]
pub struct ServerUse {
    /// User plus system CPU time spent between the start and the end of the measurement.
    pub cpu_seconds: f64,
    /// The highest resident set size since the scenario began (VmHWM), if the
    /// peak could be reset at its start; otherwise since the server started.
    pub peak_rss_kib: u64,
    pub peak_reset: bool,
    /// Resident set size before the connections were opened and at the end of the measurement.
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    /// Bytes the server made the disk write over the measured span.
    pub written_bytes: Option<u64>,
}

/// What one scenario run found. Counts are in copies of changes (deliveries),
/// except where `measures` says otherwise.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub scenario: &'static str,
    pub params: String,
    pub connections: usize,
    /// What `latency` and the counts are about: "delivery", "welcome" or "ack".
    pub measures: &'static str,
    pub latency: Option<Summary>,
    /// Until the last member of the room had a change.
    pub fanout: Option<Summary>,
    /// Until the author had its confirmation.
    pub ack: Option<Summary>,
    /// Changes sent, or connections attempted.
    pub sent: u64,
    pub expected: u64,
    pub delivered: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
    pub errors: u64,
    pub disconnects: u64,
    pub first_problem: Option<String>,
    /// From the first scheduled send to the last delivery.
    pub seconds: f64,
    pub per_second: Option<f64>,
    pub server: Option<ServerUse>,
    /// The generator's own CPU time over the same span as `server.cpu_seconds`.
    pub loadgen_cpu_seconds: Option<f64>,
}

impl Report {
    /// A report with nothing counted yet.
    pub fn new(scenario: &'static str, params: String, connections: usize, measures: &'static str) -> Report {
        Report {
            scenario,
            params,
            connections,
            measures,
            latency: None,
            fanout: None,
            ack: None,
            sent: 0,
            expected: 0,
            delivered: 0,
            lost: 0,
            duplicated: 0,
            out_of_order: 0,
            errors: 0,
            disconnects: 0,
            first_problem: None,
            seconds: 0.0,
            per_second: None,
            server: None,
            loadgen_cpu_seconds: None,
        }
    }

    /// Deliveries per second of server CPU time.
    pub fn per_cpu_second(&self) -> Option<f64> {
        let cpu = self.server.as_ref()?.cpu_seconds;
        (cpu > 0.0 && self.measures == "delivery").then(|| self.delivered as f64 / cpu)
    }

    /// Growth of the server's resident memory per connection.
    /// Disk bytes written per change sent, over the measured span.
    pub fn written_per_change(&self) -> Option<f64> {
        let written = self.server.as_ref()?.written_bytes?;
        (self.sent > 0).then(|| written as f64 / self.sent as f64)
    }

    pub fn rss_per_connection_kib(&self) -> Option<f64> {
        let s = self.server.as_ref()?;
        (self.connections > 0).then(|| (s.rss_after_kib as f64 - s.rss_before_kib as f64) / self.connections as f64)
    }

    pub const HEADER: &'static str = "| scenario | params | conns | measures | p50 ms | p99 ms | p99.9 ms | max ms \
        | fan-out p99 ms | ack p99 ms | delivered | lost | dup | ooo | errors | disc | per s | server CPU s \
        | per CPU-s | loadgen CPU s | peak RSS MiB | ΔRSS/conn KiB | disk B/change |\n\
        |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|";

    /// The Markdown table row under `HEADER`.
    pub fn row(&self) -> String {
        let num = |v: Option<f64>, places: usize| v.map_or("-".to_owned(), |v| format!("{v:.places$}"));
        let l = self.latency.as_ref();
        let server = self.server.as_ref();
        let mut row = String::new();
        let cells = [
            self.scenario.to_owned(),
            self.params.clone(),
            self.connections.to_string(),
            self.measures.to_owned(),
            num(l.map(|l| l.p50_ms), 2),
            num(l.map(|l| l.p99_ms), 2),
            num(l.map(|l| l.p999_ms), 2),
            num(l.map(|l| l.max_ms), 2),
            num(self.fanout.as_ref().map(|f| f.p99_ms), 2),
            num(self.ack.as_ref().map(|a| a.p99_ms), 2),
            self.delivered.to_string(),
            self.lost.to_string(),
            self.duplicated.to_string(),
            self.out_of_order.to_string(),
            self.errors.to_string(),
            self.disconnects.to_string(),
            num(self.per_second, 0),
            num(server.map(|s| s.cpu_seconds), 2),
            num(self.per_cpu_second(), 0),
            num(self.loadgen_cpu_seconds, 2),
            num(server.map(|s| s.peak_rss_kib as f64 / 1024.0), 1),
            num(self.rss_per_connection_kib(), 1),
            num(self.written_per_change(), 0),
        ];
        for cell in cells {
            let _ = write!(row, "| {cell} ");
        }
        row.push('|');
        row
    }

    /// The report as one line of JSON, with the derived figures included.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(obj) = v.as_object_mut() {
            obj.insert("per_cpu_second".into(), self.per_cpu_second().into());
            obj.insert("rss_per_connection_kib".into(), self.rss_per_connection_kib().into());
            obj.insert("written_per_change".into(), self.written_per_change().into());
        }
        v
    }
}
