//! Renders the results as Markdown tables (pasted as they are into docs/benchmarks.md).

use std::fmt::Write as _;

use crate::stats::Stats;

pub struct GroupResult {
    pub title: String,
    pub concurrency: usize,
    pub stats: Stats,
}

/// One timed run: one scenario, or several at once (the sign-in storm).
pub struct RunResult {
    pub title: String,
    pub groups: Vec<GroupResult>,
    /// The measured window, in seconds.
    pub seconds: f64,
    /// CPU use of each watched process during the window, in % of one core.
    pub cpu: Vec<(String, Option<f64>)>,
    /// VmHWM of each service after the run, in KiB.
    pub peak_rss_kib: Vec<(String, Option<u64>)>,
}

pub fn render(heading: &str, runs: &[RunResult]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{heading}\n");
    latency_table(&mut out, runs);
    error_details(&mut out, runs);
    cpu_table(&mut out, runs);
    rss_table(&mut out, runs);
    out
}

fn latency_table(out: &mut String, runs: &[RunResult]) {
    out.push_str(
        "| scenario | concurrency | requests | req/s | p50 ms | p99 ms | p99.9 ms | errors |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for run in runs {
        for group in &run.groups {
            let stats = &group.stats;
            let per_second = stats.requests() as f64 / run.seconds.max(f64::EPSILON);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.0} | {} | {} | {} | {} |",
                group.title,
                group.concurrency,
                stats.requests(),
                per_second,
                ms(stats.quantile_ms(0.5)),
                ms(stats.quantile_ms(0.99)),
                ms(stats.quantile_ms(0.999)),
                stats.error_count(),
            );
        }
    }
}

fn error_details(out: &mut String, runs: &[RunResult]) {
    let lines: Vec<String> = runs
        .iter()
        .flat_map(|run| &run.groups)
        .filter(|group| group.stats.error_count() > 0)
        .map(|group| {
            let kinds: Vec<String> = group
                .stats
                .errors()
                .iter()
                .map(|(what, count)| format!("{count} × {what}"))
                .collect();
            format!("- {}: {}", group.title, kinds.join(", "))
        })
        .collect();
    if lines.is_empty() {
        out.push_str("\nNo errors: every answer had the expected status.\n");
    } else {
        out.push_str("\nErrors:\n\n");
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
    }
}

fn cpu_table(out: &mut String, runs: &[RunResult]) {
    let Some(first) = runs.first() else { return };
    let names: Vec<&str> = first.cpu.iter().map(|(name, _)| name.as_str()).collect();
    out.push_str(
        "\nCPU use during each measured window, in % of one core (all cores = 100 % × cores):\n\n",
    );
    let _ = writeln!(out, "| run | {} | total |", names.join(" | "));
    let _ = writeln!(out, "|---|{}---:|", "---:|".repeat(names.len()));
    for run in runs {
        let cells: Vec<String> = run.cpu.iter().map(|(_, pct)| percent(*pct)).collect();
        let total: f64 = run.cpu.iter().filter_map(|(_, pct)| *pct).sum();
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} % |",
            run.title,
            cells.join(" | "),
            total
        );
    }
}

fn rss_table(out: &mut String, runs: &[RunResult]) {
    let Some(first) = runs.first() else { return };
    if first.peak_rss_kib.is_empty() {
        return;
    }
    let names: Vec<&str> = first
        .peak_rss_kib
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    out.push_str("\nPeak RSS (VmHWM, since the service started) after each run:\n\n");
    let _ = writeln!(out, "| after | {} |", names.join(" | "));
    let _ = writeln!(out, "|---|{}", "---:|".repeat(names.len()));
    for run in runs {
        let cells: Vec<String> = run
            .peak_rss_kib
            .iter()
            .map(|(_, kib)| match kib {
                Some(kib) => format!("{:.1} MiB", *kib as f64 / 1024.0),
                None => "n/a".into(),
            })
            .collect();
        let _ = writeln!(out, "| {} | {} |", run.title, cells.join(" | "));
    }
}

fn ms(value: Option<f64>) -> String {
    match value {
        Some(ms) if ms >= 100.0 => format!("{ms:.0}"),
        Some(ms) if ms >= 10.0 => format!("{ms:.1}"),
        Some(ms) => format!("{ms:.2}"),
        None => "n/a".into(),
    }
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".into(), |pct| format!("{pct:.0} %"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn renders_one_row_per_group_and_the_errors() {
        let mut stats = Stats::new();
        stats.record_response(Duration::from_millis(2), None);
        stats.record_response(Duration::from_millis(4), Some("status 500".into()));
        let run = RunResult {
            title: "create task".into(),
            groups: vec![GroupResult {
                title: "create task".into(),
                concurrency: 8,
                stats,
            }],
            seconds: 2.0,
            cpu: vec![("tasks-service".into(), Some(50.0))],
            peak_rss_kib: vec![("tasks-service".into(), Some(20 * 1024))],
        };
        let text = render("## Results", &[run]);
        assert!(text.contains("| create task | 8 | 2 | 1 | "), "{text}");
        assert!(text.contains("- create task: 1 × status 500"), "{text}");
        assert!(text.contains("| create task | 50 % | 50 % |"), "{text}");
        assert!(text.contains("| create task | 20.0 MiB |"), "{text}");
    }
}
