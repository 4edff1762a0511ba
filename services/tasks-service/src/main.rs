use std::process::ExitCode;

use clap::{Parser, Subcommand};
use service_runtime::healthcheck::{self, Check};
use service_runtime::{shutdown, telemetry};

use tasks_service::config::Settings;
use tasks_service::database;
use tasks_service::startup::Application;

#[derive(Parser)]
#[command(
    name = "tasks-service",
    about = "Taskgate tasks-service",
    after_help = "Example:\n  TASKS__HTTP__PORT=8082 tasks-service serve"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve HTTP (the default).
    #[command(
        after_help = "Example:\n  TASKS__AUTH__ISSUER_URL=http://127.0.0.1:8081 tasks-service serve"
    )]
    Serve,
    /// Run the database migrations and exit.
    #[command(
        after_help = "Example:\n  DATABASE_URL=postgres://postgres@127.0.0.1/taskgate tasks-service migrate"
    )]
    Migrate,
    /// Ask the service running on this machine whether it is ready (`/readyz`; `--live`:
    /// `/healthz`) and exit 0 if it is, 1 if not: a container's HEALTHCHECK, with no shell.
    #[command(
        after_help = "Examples:\n  tasks-service healthcheck\n  TASKS__HTTP__PORT=9000 tasks-service healthcheck --live"
    )]
    Healthcheck {
        /// Only whether the process answers HTTP (`/healthz`), not whether it can serve.
        #[arg(long)]
        live: bool,
    },
}

/// Errors end the process with one line on stderr and exit code 1.
#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command.unwrap_or(Command::Serve)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tasks-service: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            telemetry::init_for_server();
            let settings = Settings::load()?;
            let app = Application::build(settings).await?;
            // SIGTERM/SIGINT drain the server; serving ends when it has stopped.
            shutdown::serve_until_signalled(app.shutdown(), app.run_until_stopped()).await?;
        }
        Command::Healthcheck { live } => {
            telemetry::init_for_cli();
            let settings = Settings::load()?;
            healthcheck::probe(&settings.http.host, settings.http.port, check(live))?;
            println!("ok");
        }
        Command::Migrate => {
            telemetry::init_for_cli();
            database::open(&Settings::load()?).await?;
            println!("migrations are up to date");
        }
    }
    Ok(())
}

fn check(live: bool) -> Check {
    if live { Check::Alive } else { Check::Ready }
}
