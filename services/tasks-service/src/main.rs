use clap::{Parser, Subcommand};

use tasks_service::config::Settings;
use tasks_service::startup::{Application, open_database};

#[derive(Parser)]
#[command(name = "tasks-service", about = "Taskgate tasks-service")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve HTTP (the default).
    Serve,
    /// Run the database migrations and exit.
    Migrate,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_telemetry();
    let settings = Settings::load()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            Application::build(settings)
                .await?
                .run_until_stopped()
                .await?
        }
        Command::Migrate => {
            open_database(&settings).await?;
            tracing::info!("migrations are up to date");
        }
    }
    Ok(())
}

/// Log lines go to stdout; `RUST_LOG` filters them (default `info`). Tokens, passwords and
/// cookies are never recorded by our spans (handlers use `skip_all`).
fn init_telemetry() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
}
