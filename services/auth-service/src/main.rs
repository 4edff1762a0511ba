//! The `auth-service` command line: serve, or administer the database. What each command does
//! is in `auth_service::cli`; this file only parses the arguments and reports errors.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use service_runtime::healthcheck::{self, Check};
use service_runtime::{shutdown, telemetry};

use auth_service::cli::{self, Format};
use auth_service::config::Settings;
use auth_service::database;
use auth_service::startup::Application;

#[derive(Parser)]
#[command(
    name = "auth-service",
    about = "Taskgate auth-service: serves the auth API, or administers its keys, OAuth clients \
             and purge outbox. Settings come from config/auth-service.toml and AUTH__… \
             variables. `serve` logs to stdout (RUST_LOG, default info); the other commands \
             print only their results on stdout, and log to stderr, only warnings unless \
             RUST_LOG is set.",
    after_help = "Examples:\n  auth-service serve\n  auth-service keys list --json"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve HTTP (the default).
    #[command(after_help = "Example:\n  AUTH__HTTP__PORT=8081 auth-service serve")]
    Serve,
    /// Run the database migrations and exit.
    #[command(after_help = "Example:\n  \
        DATABASE_URL=postgres://postgres@127.0.0.1/taskgate auth-service migrate")]
    Migrate,
    /// Ask the service running on this machine whether it is ready (`/readyz`; `--live`:
    /// `/healthz`) and exit 0 if it is, 1 if not: a container's HEALTHCHECK, with no shell.
    #[command(
        after_help = "Examples:\n  auth-service healthcheck\n  AUTH__HTTP__PORT=9000 auth-service healthcheck --live"
    )]
    Healthcheck {
        /// Only whether the process answers HTTP (`/healthz`), not whether it can serve.
        #[arg(long)]
        live: bool,
    },
    /// Manage the signing keys.
    #[command(after_help = "Example:\n  auth-service keys list")]
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Manage the confidential OAuth clients (services using client_credentials).
    #[command(after_help = "Example:\n  auth-service clients list --json")]
    Clients {
        #[command(subcommand)]
        action: ClientsAction,
    },
    /// The purge outbox: account deletions and their delivery to the tasks-service.
    #[command(after_help = "Example:\n  auth-service outbox list --limit 10")]
    Outbox {
        #[command(subcommand)]
        action: OutboxAction,
    },
}

#[derive(Subcommand)]
enum KeysAction {
    /// List the keys with their state (next, current, retired).
    #[command(after_help = "Examples:\n  auth-service keys list\n  \
        auth-service keys list --json | jq -r '.[] | select(.state == \"current\") | .kid'")]
    List {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Rotate now: the published `next` key starts signing, the current one retires.
    #[command(after_help = "Examples:\n  auth-service keys rotate\n  \
        auth-service keys rotate --if-due    # from cron, on every machine")]
    Rotate {
        /// Only if the current key has signed for AUTH__KEYS__ROTATION_INTERVAL_SECS (for
        /// cron; safe to run on several machines at once: one rotates).
        #[arg(long)]
        if_due: bool,
        /// Rotate even if the `next` key was published less than 10 minutes ago (validators
        /// refresh their JWKS every 5 minutes and may not have it yet).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum ClientsAction {
    /// Register a client; prints its id and secret (the secret only this once).
    #[command(after_help = "Example:\n  \
        auth-service clients create --name \"account purger\" --scope tasks:purge")]
    Create {
        /// What the client is, for people reading `clients list`.
        #[arg(long)]
        name: String,
        /// Space-separated scopes it may be granted: tasks:read tasks:write tasks:purge
        /// tokens:revoke tokens:introspect revocations:read.
        #[arg(long, alias = "scopes")]
        scope: String,
        /// The `aud` of its tokens: the service it calls (default: AUTH__TOKENS__AUDIENCE).
        #[arg(long)]
        audience: Option<String>,
    },
    /// List every client, revoked ones included.
    #[command(after_help = "Examples:\n  auth-service clients list\n  \
        auth-service clients list --json")]
    List {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a client: it gets no new tokens (its current ones expire within their lifetime).
    #[command(after_help = "Example:\n  auth-service clients revoke svc-0193…")]
    Revoke { client_id: String },
    /// Re-enable a revoked client (a restart never does: a revocation outlives `[[clients]]`).
    #[command(after_help = "Example:\n  auth-service clients enable svc-0193…")]
    Enable { client_id: String },
    /// Give an active client a new secret (printed once); the old secret stops working.
    #[command(after_help = "Example:\n  auth-service clients rotate-secret svc-0193…")]
    RotateSecret { client_id: String },
    /// Remove a client from the database, revoked or not.
    #[command(after_help = "Example:\n  auth-service clients delete svc-0193…")]
    Delete { client_id: String },
}

#[derive(Subcommand)]
enum OutboxAction {
    /// The newest records: user, attempts, next attempt, delivered, last error.
    #[command(after_help = "Examples:\n  auth-service outbox list\n  \
        auth-service outbox list --json | jq 'map(select(.delivered_at == null)) | length'")]
    List {
        /// How many records, newest first.
        #[arg(long, default_value_t = 50)]
        limit: u64,
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Errors end the process with one line on stderr and exit code 1.
#[tokio::main]
async fn main() -> ExitCode {
    let command = Cli::parse().command.unwrap_or(Command::Serve);
    if matches!(command, Command::Serve) {
        telemetry::init_for_server();
    } else {
        telemetry::init_for_cli();
    }
    match run(command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("auth-service: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    let settings = Settings::load()?;
    match command {
        Command::Serve => {
            let app = Application::build(settings).await?;
            // SIGTERM/SIGINT drain the server; serving ends when it has stopped.
            shutdown::serve_until_signalled(app.shutdown(), app.run_until_stopped()).await?;
        }
        Command::Healthcheck { live } => {
            healthcheck::probe(&settings.http.host, settings.http.port, check(live))?;
            println!("ok");
        }
        Command::Migrate => {
            database::open(&settings).await?;
            println!("migrations are up to date");
        }
        Command::Keys { action } => match action {
            KeysAction::List { json } => cli::keys::list(&settings, Format::json(json)).await?,
            KeysAction::Rotate { if_due, force } => {
                cli::keys::rotate(&settings, if_due, force).await?
            }
        },
        Command::Clients { action } => match action {
            ClientsAction::Create {
                name,
                scope,
                audience,
            } => cli::clients::create(&settings, &name, &scope, audience.as_deref()).await?,
            ClientsAction::List { json } => {
                cli::clients::list(&settings, Format::json(json)).await?
            }
            ClientsAction::Revoke { client_id } => {
                cli::clients::revoke(&settings, &client_id).await?
            }
            ClientsAction::Enable { client_id } => {
                cli::clients::enable(&settings, &client_id).await?
            }
            ClientsAction::RotateSecret { client_id } => {
                cli::clients::rotate_secret(&settings, &client_id).await?
            }
            ClientsAction::Delete { client_id } => {
                cli::clients::delete(&settings, &client_id).await?
            }
        },
        Command::Outbox {
            action: OutboxAction::List { limit, json },
        } => cli::outbox::list(&settings, limit, Format::json(json)).await?,
    }
    Ok(())
}

fn check(live: bool) -> Check {
    if live { Check::Alive } else { Check::Ready }
}
