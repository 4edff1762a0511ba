//! A Postgres server of a test's own (feature `test-support`), so an outage test can stop and
//! start it without touching the server every other test shares: `initdb` into a scratch
//! folder, `pg_ctl` on a free loopback port. Stopped and removed on drop.

use std::path::{Path, PathBuf};
use std::process::Command;

use uuid::Uuid;

pub struct ThrowawayCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

impl ThrowawayCluster {
    /// Creates and starts a cluster; panics, saying why, if this machine cannot.
    pub fn start() -> Self {
        let bin = postgres_bin();
        let dir = std::env::temp_dir().join(format!("taskgate-cluster-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        // Postgres refuses to run as root: as root, the cluster belongs to `postgres`.
        if running_as_root() {
            run(Command::new("chown").arg("postgres:postgres").arg(&dir));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .unwrap_or_else(|e| panic!("finding a free port: {e}"))
            .port();
        let cluster = Self { bin, dir, port };
        run(&mut cluster.pg(
            "initdb",
            &[
                "-D",
                &cluster.data(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        ));
        cluster.start_again();
        cluster
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server at once (`pg_ctl stop -m immediate`): connections break mid-use.
    pub fn stop(&self) {
        run(&mut self.pg(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        ));
    }

    /// Starts the (stopped) server again, on the same port, and waits until it accepts.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log");
        run(&mut self.pg(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log.display().to_string(),
                "-w",
                "start",
            ],
        ));
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn pg(&self, program: &str, args: &[&str]) -> Command {
        let program = self.bin.join(program);
        if running_as_root() {
            let mut command = Command::new("runuser");
            command
                .args(["-u", "postgres", "--"])
                .arg(program)
                .args(args);
            command
        } else {
            let mut command = Command::new(program);
            command.args(args);
            command
        }
    }
}

impl Drop for ThrowawayCluster {
    fn drop(&mut self) {
        let _ = self
            .pg("pg_ctl", &["-D", &self.data(), "-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest installed server's binaries (`/usr/lib/postgresql/<version>/bin`).
fn postgres_bin() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let newest = std::fs::read_dir(root)
        .unwrap_or_else(|e| panic!("no Postgres server binaries under {}: {e}", root.display()))
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .max()
        .unwrap_or_else(|| panic!("no Postgres version under {}", root.display()));
    root.join(newest.to_string()).join("bin")
}

fn running_as_root() -> bool {
    std::env::var("USER").is_ok_and(|user| user == "root")
        || Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("running {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
