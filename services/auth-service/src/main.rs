use clap::{Parser, Subcommand};

use auth_service::config::Settings;
use auth_service::key_rotation::{self, RotationOutcome};
use auth_service::master_key::MasterKey;
use auth_service::signing_keys;
use auth_service::startup::{Application, open_database};

#[derive(Parser)]
#[command(name = "auth-service", about = "Taskgate auth-service")]
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
    /// Manage the signing keys.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
}

#[derive(Subcommand)]
enum KeysAction {
    /// List the keys with their state (next, current, retired).
    List,
    /// Rotate now: the published `next` key starts signing, the current one retires.
    Rotate,
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
        Command::Keys { action } => keys(settings, action).await?,
    }
    Ok(())
}

async fn keys(settings: Settings, action: KeysAction) -> anyhow::Result<()> {
    let master = MasterKey::from_settings(&settings)?;
    let db = open_database(&settings).await?;
    // Creates the first keys if the service never ran, so `rotate` always has a `next`.
    signing_keys::load_or_create(&db, &master).await?;
    match action {
        KeysAction::List => {
            println!(
                "{:<44} {:<8} {:<7} {:<32} {:<32} retired",
                "kid", "state", "alg", "created", "activated"
            );
            for key in key_rotation::list(&db).await? {
                let at = |t: Option<chrono::DateTime<chrono::Utc>>| {
                    t.map_or("-".to_owned(), |t| t.to_rfc3339())
                };
                println!(
                    "{:<44} {:<8} {:<7} {:<32} {:<32} {}",
                    key.kid,
                    key.state,
                    key.algorithm,
                    key.created_at.to_rfc3339(),
                    at(key.activated_at),
                    at(key.retired_at)
                );
            }
        }
        KeysAction::Rotate => match key_rotation::rotate(&db, &master, None).await? {
            RotationOutcome::Rotated {
                retired,
                current,
                next,
            } => {
                println!(
                    "rotated: current {current}, next {next}, retired {}",
                    retired.join(", ")
                );
                println!(
                    "running replicas pick the new key up within AUTH__KEYS__RELOAD_INTERVAL_SECS"
                );
            }
            RotationOutcome::NotDue => println!("not rotated"),
        },
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
