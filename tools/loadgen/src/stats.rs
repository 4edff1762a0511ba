//! What one scenario's workers observed: a latency histogram and error counts. Each worker
//! keeps its own `Stats` (no sharing on the hot path); they are merged when the scenario ends.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

/// Latencies are recorded in microseconds, from 1 µs to 60 s, at 3 significant digits.
const HIGHEST_MICROS: u64 = 60_000_000;

pub struct Stats {
    latency_micros: Histogram<u64>,
    requests: u64,
    errors: BTreeMap<String, u64>,
}

impl Stats {
    pub fn new() -> Self {
        Self {
            // Valid constant bounds (1 ≤ low, high ≥ 2·low, 3 digits): this cannot fail.
            latency_micros: Histogram::new_with_bounds(1, HIGHEST_MICROS, 3)
                .unwrap_or_else(|e| unreachable!("constant histogram bounds: {e}")),
            requests: 0,
            errors: BTreeMap::new(),
        }
    }

    /// A request that got an answer: its latency counts whether or not it was the expected
    /// answer (a fast wrong answer is still a response time the client saw).
    pub fn record_response(&mut self, latency: Duration, error: Option<String>) {
        self.requests += 1;
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency_micros.saturating_record(micros.max(1));
        if let Some(error) = error {
            *self.errors.entry(error).or_default() += 1;
        }
    }

    /// A request that got no answer (connection failure, timeout): no latency to record.
    pub fn record_failure(&mut self, error: &str) {
        self.requests += 1;
        *self.errors.entry(error.to_owned()).or_default() += 1;
    }

    pub fn merge(&mut self, other: &Stats) {
        // Same bounds on both sides, so adding cannot fail; saturate rather than panic anyway.
        if self.latency_micros.add(&other.latency_micros).is_err() {
            for value in other.latency_micros.iter_recorded() {
                self.latency_micros
                    .saturating_record_n(value.value_iterated_to(), value.count_at_value());
            }
        }
        self.requests += other.requests;
        for (error, count) in &other.errors {
            *self.errors.entry(error.clone()).or_default() += count;
        }
    }

    pub fn requests(&self) -> u64 {
        self.requests
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    pub fn errors(&self) -> &BTreeMap<String, u64> {
        &self.errors
    }

    /// The latency at quantile `q` (0.99 for p99), in milliseconds; `None` without responses.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        if self.latency_micros.is_empty() {
            return None;
        }
        Some(self.latency_micros.value_at_quantile(q) as f64 / 1000.0)
    }
}

impl Default for Stats {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_latencies_and_errors() {
        let mut a = Stats::new();
        let mut b = Stats::new();
        for ms in 1..=100 {
            a.record_response(Duration::from_millis(ms), None);
        }
        b.record_response(Duration::from_millis(500), Some("status 500".into()));
        b.record_failure("timeout");
        a.merge(&b);
        assert_eq!(a.requests(), 102);
        assert_eq!(a.error_count(), 2);
        let p50 = a.quantile_ms(0.5).unwrap_or_default();
        assert!((50.0..=52.0).contains(&p50), "p50 {p50}");
        let max = a.quantile_ms(1.0).unwrap_or_default();
        assert!((499.0..=501.0).contains(&max), "max {max}");
    }

    #[test]
    fn no_responses_no_quantiles() {
        let mut stats = Stats::new();
        stats.record_failure("connect failed");
        assert_eq!(stats.quantile_ms(0.99), None);
        assert_eq!(stats.requests(), 1);
    }
}
