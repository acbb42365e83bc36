//! Process metrics, rendered in the Prometheus text format (the `prometheus` crate): requests by
//! route and status with latency histograms, sign-ins by method and result, tokens signed by
//! algorithm, the hash pool, the database pool and the logout outbox. Counters are incremented
//! where things happen; gauges are read when the metrics are rendered.
//!
//! One registry per process: Prometheus counters are process-wide by nature (a scrape reads the
//! process), and instances are told apart by the scraper's `instance` label.

use std::sync::LazyLock;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// The metrics of this process.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    signins: IntCounterVec,
    tokens: IntCounterVec,
    hash_running: IntGauge,
    hash_queued: IntGauge,
    db_pool: IntGaugeVec,
    outbox: IntGauge,
    budget_refusals: IntCounterVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// Latency buckets, in seconds: 1 ms to 5 s (a password check is about 40 ms).
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

fn build() -> Result<Metrics, prometheus::Error> {
    let registry = Registry::new_custom(Some("authify".into()), None)?;
    let requests = IntCounterVec::new(
        Opts::new(
            "http_requests_total",
            "HTTP requests by route, method and status.",
        ),
        &["route", "method", "status"],
    )?;
    let latency = HistogramVec::new(
        HistogramOpts::new(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route.",
        )
        .buckets(BUCKETS.to_vec()),
        &["route"],
    )?;
    let signins = IntCounterVec::new(
        Opts::new("signins_total", "Sign-in steps by method and result."),
        &["method", "result"],
    )?;
    let tokens = IntCounterVec::new(
        Opts::new("tokens_signed_total", "Tokens signed, by algorithm."),
        &["algorithm"],
    )?;
    let hash_running = IntGauge::new("hash_pool_running", "Password hashes running now.")?;
    let hash_queued = IntGauge::new(
        "hash_pool_queued",
        "Password hashes waiting for a hashing thread.",
    )?;
    let db_pool = IntGaugeVec::new(
        Opts::new("db_pool_connections", "Database pool connections by state."),
        &["state"],
    )?;
    let outbox = IntGauge::new(
        "logout_outbox_backlog",
        "Back-channel logout deliveries not yet made.",
    )?;
    registry.register(Box::new(requests.clone()))?;
    registry.register(Box::new(latency.clone()))?;
    registry.register(Box::new(signins.clone()))?;
    registry.register(Box::new(tokens.clone()))?;
    registry.register(Box::new(hash_running.clone()))?;
    registry.register(Box::new(hash_queued.clone()))?;
    registry.register(Box::new(db_pool.clone()))?;
    let budget_refusals = IntCounterVec::new(
        Opts::new(
            "budget_refusals_total",
            "Notices and actions refused by a cost budget (authify_core::costs), by budget.",
        ),
        &["budget"],
    )?;
    registry.register(Box::new(outbox.clone()))?;
    registry.register(Box::new(budget_refusals.clone()))?;
    Ok(Metrics {
        registry,
        requests,
        latency,
        signins,
        tokens,
        hash_running,
        hash_queued,
        db_pool,
        outbox,
        budget_refusals,
    })
}

static METRICS: LazyLock<Option<Metrics>> = LazyLock::new(|| match build() {
    Ok(m) => Some(m),
    Err(e) => {
        tracing::error!(error = %e, "metrics unavailable");
        None
    }
});

/// The process's metrics (`None` only if the fixed definitions above were refused).
pub fn metrics() -> Option<&'static Metrics> {
    METRICS.as_ref()
}

/// Counts a sign-in step: `method` is `password`, `passkey`, `passwordless`, `totp`, `sms`,
/// `email`, `push`, `recovery`; `ok` whether it succeeded.
pub fn signin(method: &str, ok: bool) {
    if let Some(m) = metrics() {
        m.signins
            .with_label_values(&[method, if ok { "success" } else { "failure" }])
            .inc();
    }
}

/// Counts a refusal by the cost budget `budget` (`sms_global`, `mail_recipient`, ...).
pub fn over_budget(budget: &str) {
    if let Some(m) = metrics() {
        m.budget_refusals.with_label_values(&[budget]).inc();
    }
}

/// What the renderer reads at scrape time.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges {
    /// Hashes running.
    pub hash_running: usize,
    /// Hashes queued.
    pub hash_queued: usize,
    /// Pool connections in use.
    pub db_in_use: u32,
    /// Pool connections idle.
    pub db_idle: u32,
    /// Logout deliveries pending.
    pub outbox: i64,
}

impl Metrics {
    /// Counts one answered request. `route` is the matched route pattern (bounded), never the
    /// path itself.
    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[route, method, &status.to_string()])
            .inc();
        self.latency.with_label_values(&[route]).observe(seconds);
    }

    /// The text format, with the gauges set from `gauges` and the token counters caught up.
    pub fn render(&self, gauges: Gauges) -> String {
        self.hash_running.set(gauges.hash_running as i64);
        self.hash_queued.set(gauges.hash_queued as i64);
        self.db_pool
            .with_label_values(&["in_use"])
            .set(i64::from(gauges.db_in_use));
        self.db_pool
            .with_label_values(&["idle"])
            .set(i64::from(gauges.db_idle));
        self.outbox.set(gauges.outbox);
        for alg in authify_domain::Algorithm::ALL {
            let counter = self.tokens.with_label_values(&[alg.as_str()]);
            let total = authify_jwt::signed_total(alg);
            counter.inc_by(total.saturating_sub(counter.get()));
        }
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "metrics encoding failed");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The gauges of `db` and `hasher`, now. The outbox is counted with a quick query (0 when the
/// database does not answer: metrics must not fail with it).
pub async fn gauges(db: &crate::Db, hasher: &crate::PasswordHasher) -> Gauges {
    let (hash_running, hash_queued) = hasher.load();
    let (db_in_use, db_idle) = db.pool_load();
    let outbox = db
        .run_quick(authify_store::oauth::count_outbox)
        .await
        .unwrap_or(0);
    Gauges {
        hash_running,
        hash_queued,
        db_in_use,
        db_idle,
        outbox,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_is_rendered_with_its_prefix_and_counts_move() {
        let m = metrics().unwrap();
        m.request("/login", "POST", 303, 0.04);
        signin("password", true);
        let text = m.render(Gauges {
            hash_running: 2,
            hash_queued: 5,
            db_in_use: 1,
            db_idle: 2,
            outbox: 3,
        });
        for family in [
            "authify_http_requests_total{method=\"POST\",route=\"/login\",status=\"303\"}",
            "authify_http_request_duration_seconds_bucket{route=\"/login\",le=\"0.05\"}",
            "authify_signins_total{method=\"password\",result=\"success\"}",
            "authify_hash_pool_running 2",
            "authify_hash_pool_queued 5",
            "authify_db_pool_connections{state=\"in_use\"} 1",
            "authify_logout_outbox_backlog 3",
            "authify_tokens_signed_total{algorithm=\"ES512\"}",
        ] {
            assert!(text.contains(family), "{family} missing from:\n{text}");
        }
    }
}
