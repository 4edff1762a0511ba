//! `loadgen`: seeds users and tasks through the public API, then drives the auth-service and
//! the tasks-service with many concurrent keep-alive connections for a fixed time per
//! scenario, and prints throughput, latency percentiles, errors, CPU split and peak RSS as
//! Markdown. `scripts/bench.sh` (`make bench`) starts the services and runs it.

mod http;
mod procstat;
mod report;
mod scenario;
mod seed;
mod stats;
mod users;

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;

use crate::procstat::Watched;
use crate::report::{GroupResult, RunResult};
use crate::scenario::{Group, Kind, Targets};

#[derive(Parser, Debug)]
#[command(about = "Load generator for the Taskgate services (see docs/benchmarks.md)")]
struct Cli {
    /// The auth-service, as http://<ip>:<port>.
    #[arg(long)]
    auth_url: String,
    /// The tasks-service, as http://<ip>:<port>.
    #[arg(long)]
    tasks_url: String,
    #[arg(long, default_value_t = 1000)]
    users: usize,
    #[arg(long, default_value_t = 20)]
    tasks_per_user: usize,
    /// Measured seconds per scenario.
    #[arg(long, default_value_t = 15.0)]
    duration: f64,
    /// Unrecorded seconds before each scenario's measured window (connections open, caches
    /// and pools fill).
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Concurrent connections for the tasks-service scenarios (list, create, update, bad
    /// token).
    #[arg(long, default_value_t = 256)]
    concurrency: usize,
    /// Concurrent connections for the sign-in and refresh scenarios.
    #[arg(long, default_value_t = 64)]
    auth_concurrency: usize,
    /// Concurrent sign-in clients during the storm.
    #[arg(long, default_value_t = 64)]
    storm_sign_ins: usize,
    /// Readers (list 20 tasks) during the storm, and in the baseline run just before it at
    /// the same concurrency. Fewer than `concurrency`: the question is what a storm does to
    /// the latency of ordinary traffic, not to a machine already saturated by readers alone
    /// (at saturation a closed-loop client's latency is connections / throughput, so halving
    /// the CPU doubles it whatever the service does).
    #[arg(long, default_value_t = 32)]
    storm_readers: usize,
    /// Which runs to do, comma-separated (default: all, in this order).
    #[arg(long, value_enum, value_delimiter = ',')]
    scenarios: Vec<RunName>,
    /// Sign-ups in flight while seeding (default: the number of cores; argon2 is CPU-bound).
    #[arg(long)]
    signup_concurrency: Option<usize>,
    /// Task creations in flight while seeding.
    #[arg(long, default_value_t = 64)]
    seed_concurrency: usize,
    /// Per-request timeout in seconds; a timed-out request counts as an error.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Load generator threads (default: the number of cores).
    #[arg(long)]
    threads: Option<usize>,
    /// A service process to report CPU and peak RSS for, as name=pid (repeatable).
    #[arg(long = "watch")]
    watch: Vec<String>,
    /// A process whose CPU, with its children's, to report, as name=pid (Postgres).
    #[arg(long = "watch-tree")]
    watch_tree: Vec<String>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.threads.unwrap_or(cores).max(1))
        .enable_all()
        .build()?;
    let report = runtime.block_on(run(cli, cores))?;
    print!("{report}");
    Ok(())
}

async fn run(cli: Cli, cores: usize) -> anyhow::Result<String> {
    let targets = Targets {
        auth: http::Target::parse(&cli.auth_url)?,
        tasks: http::Target::parse(&cli.tasks_url)?,
        timeout: Duration::from_secs_f64(cli.timeout),
    };
    let mut watched = Vec::new();
    for spec in &cli.watch {
        watched.push(Watched::parse(spec, false, true)?);
    }
    for spec in &cli.watch_tree {
        watched.push(Watched::parse(spec, true, false)?);
    }
    watched.push(Watched::this_process());

    let plan = seed::SeedPlan {
        users: cli.users,
        tasks_per_user: cli.tasks_per_user,
        signup_concurrency: cli.signup_concurrency.unwrap_or(cores),
        task_concurrency: cli.seed_concurrency,
        timeout: targets.timeout,
    };
    anyhow::ensure!(
        cli.users > 0 && cli.tasks_per_user > 0,
        "need at least one user with one task"
    );
    let users: Arc<[users::User]> = seed::seed(&targets.auth, &targets.tasks, &plan)
        .await?
        .into();

    let warmup = Duration::from_secs_f64(cli.warmup);
    let measure = Duration::from_secs_f64(cli.duration);
    let mut results = Vec::new();
    for (title, groups) in runs(&cli) {
        eprintln!(
            "run: {title} ({:.0} s + {:.0} s warm-up)",
            cli.duration, cli.warmup
        );
        let record_from = Instant::now() + warmup;
        let end = record_from + measure;
        let sampler = tokio::spawn(sample_cpu(watched.clone(), record_from, end));
        let stats = scenario::run(&groups, &users, &targets, record_from, end).await;
        let cpu = sampler.await.unwrap_or_default();
        let several = groups.len() > 1;
        let groups = groups
            .iter()
            .zip(stats)
            .map(|(group, stats)| GroupResult {
                title: if several {
                    format!("{title}: {}", group.kind.title())
                } else {
                    group.kind.title().to_owned()
                },
                concurrency: scenario::effective_concurrency(group, users.len()),
                stats,
            })
            .collect();
        results.push(RunResult {
            title,
            groups,
            seconds: measure.as_secs_f64(),
            cpu,
            peak_rss_kib: watched
                .iter()
                .filter(|w| w.report_rss)
                .map(|w| (w.name.clone(), w.peak_rss_kib()))
                .collect(),
        });
    }
    let heading = format!(
        "{} users × {} tasks; {:.0} s measured per scenario after {:.0} s warm-up; load generator on {} threads",
        cli.users,
        cli.tasks_per_user,
        cli.duration,
        cli.warmup,
        cli.threads.unwrap_or(cores)
    );
    Ok(report::render(&heading, &results))
}

/// A timed run: one scenario alone, or the sign-in storm (readers while sign-in clients keep
/// argon2 busy), after a baseline of the same readers alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum RunName {
    List,
    Create,
    Update,
    BadToken,
    SignIn,
    Refresh,
    StormBaseline,
    Storm,
}

const ALL_RUNS: [RunName; 8] = [
    RunName::List,
    RunName::Create,
    RunName::Update,
    RunName::BadToken,
    RunName::SignIn,
    RunName::Refresh,
    RunName::StormBaseline,
    RunName::Storm,
];

/// The chosen runs, always in the order of `ALL_RUNS`.
fn runs(cli: &Cli) -> Vec<(String, Vec<Group>)> {
    let single = |kind: Kind, concurrency: usize| {
        (kind.title().to_owned(), vec![Group { kind, concurrency }])
    };
    ALL_RUNS
        .into_iter()
        .filter(|run| cli.scenarios.is_empty() || cli.scenarios.contains(run))
        .map(|run| match run {
            RunName::List => single(Kind::List, cli.concurrency),
            RunName::Create => single(Kind::Create, cli.concurrency),
            RunName::Update => single(Kind::Update, cli.concurrency),
            RunName::BadToken => single(Kind::BadToken, cli.concurrency),
            RunName::SignIn => single(Kind::SignIn, cli.auth_concurrency),
            RunName::Refresh => single(Kind::Refresh, cli.auth_concurrency),
            RunName::StormBaseline => (
                "readers alone (storm baseline)".to_owned(),
                vec![Group {
                    kind: Kind::List,
                    concurrency: cli.storm_readers,
                }],
            ),
            RunName::Storm => (
                "sign-in storm".to_owned(),
                vec![
                    Group {
                        kind: Kind::List,
                        concurrency: cli.storm_readers,
                    },
                    Group {
                        kind: Kind::SignIn,
                        concurrency: cli.storm_sign_ins,
                    },
                ],
            ),
        })
        .collect()
}

/// CPU use of each watched process over [record_from, end], in % of one core.
async fn sample_cpu(
    watched: Vec<Watched>,
    record_from: Instant,
    end: Instant,
) -> Vec<(String, Option<f64>)> {
    tokio::time::sleep_until(record_from.into()).await;
    let started = Instant::now();
    let machine_before = procstat::machine_busy_ticks();
    let before: Vec<Option<u64>> = watched.iter().map(Watched::cpu_ticks).collect();
    tokio::time::sleep_until(end.into()).await;
    let seconds = started.elapsed().as_secs_f64();
    let after: Vec<Option<u64>> = watched.iter().map(Watched::cpu_ticks).collect();
    let machine_after = procstat::machine_busy_ticks();
    let mut cpu: Vec<(String, Option<f64>)> = watched
        .iter()
        .zip(before.iter().zip(&after))
        .map(|(w, (before, after))| {
            (
                w.name.clone(),
                procstat::cpu_percent(*before, *after, seconds),
            )
        })
        .collect();
    // Whatever else ran on the machine meanwhile: busy time not used by the watched processes.
    let watched_ticks: Option<u64> = before
        .iter()
        .zip(&after)
        .map(|(b, a)| a.zip(*b).map(|(a, b)| a.saturating_sub(b)))
        .sum();
    let other = machine_before
        .zip(machine_after)
        .zip(watched_ticks)
        .map(|((b, a), watched)| a.saturating_sub(b).saturating_sub(watched));
    cpu.push((
        "other processes".into(),
        procstat::cpu_percent(Some(0), other, seconds),
    ));
    cpu
}
