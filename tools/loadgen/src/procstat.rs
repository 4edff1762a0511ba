//! CPU time and peak memory of the processes under test, from Linux's /proc. On a 2-core
//! machine the services, Postgres and this load generator share the cores, so the CPU split
//! per scenario is what explains the throughput numbers.

use std::fs;

/// Linux reports CPU times in USER_HZ ticks, which is 100 per second on every architecture
/// Linux supports for user space.
const TICKS_PER_SECOND: f64 = 100.0;

#[derive(Clone, Debug)]
pub struct Watched {
    pub name: String,
    pub pid: u32,
    /// Count the CPU of its child processes too (Postgres runs one backend per connection).
    pub with_children: bool,
    /// Report its peak RSS (meaningful for our services, not for Postgres's postmaster).
    pub report_rss: bool,
}

impl Watched {
    /// Parses `name=pid`.
    pub fn parse(spec: &str, with_children: bool, report_rss: bool) -> anyhow::Result<Self> {
        let (name, pid) = spec
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("{spec:?}: expected name=pid"))?;
        let pid = pid
            .parse()
            .map_err(|e| anyhow::anyhow!("{spec:?}: bad pid ({e})"))?;
        Ok(Self {
            name: name.to_owned(),
            pid,
            with_children,
            report_rss,
        })
    }

    /// The loadgen process itself.
    pub fn this_process() -> Self {
        Self {
            name: "loadgen".into(),
            pid: std::process::id(),
            with_children: false,
            report_rss: false,
        }
    }

    /// User + system CPU ticks used so far (with children's, if asked); `None` once the
    /// process is gone.
    pub fn cpu_ticks(&self) -> Option<u64> {
        let (_, own) = read_stat(self.pid)?;
        if !self.with_children {
            return Some(own);
        }
        let children: u64 = child_pids(self.pid)
            .filter_map(|pid| read_stat(pid).map(|(_, ticks)| ticks))
            .sum();
        Some(own + children)
    }

    /// VmHWM, the peak resident set size, in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

/// CPU ticks the whole machine spent busy so far (all cores, everything but idle and I/O
/// wait), from the first line of /proc/stat. Compared with the watched processes' ticks it
/// shows how much CPU went to anything else (a build running meanwhile, say).
pub fn machine_busy_ticks() -> Option<u64> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    parse_machine_busy(stat.lines().next()?)
}

fn parse_machine_busy(cpu_line: &str) -> Option<u64> {
    let mut fields = cpu_line.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    // user nice system idle iowait irq softirq steal (guest times are already in user).
    let values: Vec<u64> = fields
        .take(8)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let [user, nice, system, _idle, _iowait, irq, softirq, steal] = values[..] else {
        return None;
    };
    Some(user + nice + system + irq + softirq + steal)
}

/// CPU use over an interval, as a percentage of one core (200 % = both of two cores).
pub fn cpu_percent(before: Option<u64>, after: Option<u64>, seconds: f64) -> Option<f64> {
    let ticks = after?.checked_sub(before?)?;
    (seconds > 0.0).then(|| ticks as f64 / TICKS_PER_SECOND / seconds * 100.0)
}

/// (parent pid, utime + stime) from /proc/<pid>/stat.
fn read_stat(pid: u32) -> Option<(u32, u64)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&stat)
}

fn parse_stat(stat: &str) -> Option<(u32, u64)> {
    // The command name (field 2) is in parentheses and may hold spaces or parentheses: the
    // fixed fields start after the last ')'. There, index 0 is field 3 (state).
    let fields: Vec<&str> = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .collect();
    let ppid = fields.get(1)?.parse().ok()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((ppid, utime + stime))
}

fn child_pids(parent: u32) -> impl Iterator<Item = u32> {
    fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(move |&pid| read_stat(pid).is_some_and(|(ppid, _)| ppid == parent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_awkward_command_names() {
        let stat = "4242 (postgres: a) b) S 17 4242 4242 0 -1 4194560 1 0 0 0 250 50 0 0 20 0";
        assert_eq!(parse_stat(stat), Some((17, 300)));
    }

    #[test]
    fn reads_this_process() {
        let me = Watched::this_process();
        assert!(me.cpu_ticks().is_some());
        assert!(me.peak_rss_kib().is_some_and(|kib| kib > 0));
    }

    #[test]
    fn machine_busy_leaves_out_idle_and_iowait() {
        let line = "cpu  100 5 20 1000 50 1 2 3 0 0";
        assert_eq!(parse_machine_busy(line), Some(131));
        assert_eq!(parse_machine_busy("cpu0 1 2 3 4 5 6 7 8"), None);
        assert!(machine_busy_ticks().is_some());
    }

    #[test]
    fn percent_of_one_core() {
        assert_eq!(cpu_percent(Some(100), Some(250), 1.5), Some(100.0));
        assert_eq!(cpu_percent(None, Some(250), 1.5), None);
    }
}
