use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;

use auth_service::config::Settings;
use auth_service::domain::ScopeSet;
use auth_service::key_rotation::{self, RotationOutcome};
use auth_service::master_key::MasterKey;
use auth_service::oauth_clients;
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
    /// Manage the confidential OAuth clients (services using client_credentials).
    Clients {
        #[command(subcommand)]
        action: ClientsAction,
    },
    /// The purge outbox: account deletions and their delivery to the tasks-service.
    Outbox {
        #[command(subcommand)]
        action: OutboxAction,
    },
}

#[derive(Subcommand)]
enum OutboxAction {
    /// The newest records: user, attempts, next attempt, delivered, last error.
    List {
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
}

#[derive(Subcommand)]
enum ClientsAction {
    /// Register a client; prints its id and secret (the secret only this once).
    Create {
        /// What the client is, for people reading `clients list`.
        #[arg(long)]
        name: String,
        /// Space-separated scopes it may be granted: tasks:read tasks:write tasks:purge.
        #[arg(long, alias = "scopes")]
        scope: String,
        /// The `aud` of its tokens: the service it calls (default: AUTH__TOKENS__AUDIENCE).
        #[arg(long)]
        audience: Option<String>,
    },
    /// List every client, revoked ones included.
    List,
    /// Revoke a client: it gets no new tokens (its current ones expire within their lifetime).
    Revoke { client_id: String },
    /// Give an active client a new secret (printed once); the old secret stops working.
    RotateSecret { client_id: String },
    /// Remove a client from the database, revoked or not.
    Delete { client_id: String },
}

#[derive(Subcommand)]
enum KeysAction {
    /// List the keys with their state (next, current, retired).
    List,
    /// Rotate now: the published `next` key starts signing, the current one retires.
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
        Command::Clients { action } => clients(settings, action).await?,
        Command::Outbox {
            action: OutboxAction::List { limit },
        } => outbox_list(settings, limit).await?,
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
        KeysAction::Rotate { if_due, force } => {
            let next_published = key_rotation::list(&db)
                .await?
                .into_iter()
                .find(|key| key.state == "next")
                .map(|key| key.created_at);
            let fresh = next_published
                .is_some_and(|at| chrono::Utc::now() - at < chrono::Duration::minutes(10));
            // (A scheduled rotation's `next` is one rotation interval, at least an hour, old.)
            if fresh && !force && !if_due {
                anyhow::bail!(
                    "the next key was published less than 10 minutes ago; validators may not \
                     have fetched it yet. Wait, or pass --force"
                );
            }
            let min_age = if_due
                .then(|| {
                    i64::try_from(settings.keys.rotation_interval_secs)
                        .map(chrono::Duration::seconds)
                })
                .transpose()?;
            rotate_keys(&db, &master, min_age).await?;
        }
    }
    Ok(())
}

async fn rotate_keys(
    db: &sea_orm::DatabaseConnection,
    master: &MasterKey,
    min_age: Option<chrono::Duration>,
) -> anyhow::Result<()> {
    match key_rotation::rotate(db, master, min_age).await? {
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
        RotationOutcome::NotDue => {
            println!(
                "not rotated: the current key is younger than AUTH__KEYS__ROTATION_INTERVAL_SECS"
            )
        }
    }
    Ok(())
}

async fn clients(settings: Settings, action: ClientsAction) -> anyhow::Result<()> {
    match action {
        ClientsAction::Create {
            name,
            scope,
            audience,
        } => {
            // Parsed before the database opens: a typo fails fast.
            let scopes = ScopeSet::parse(&scope)?;
            let db = open_database(&settings).await?;
            let created = oauth_clients::create(&db, &name, scopes, audience.as_deref()).await?;
            println!("client_id:     {}", created.client_id);
            println!("client_secret: {}", created.secret.expose_secret());
            println!("scopes:        {}", created.scopes);
            if let Some(audience) = &created.audience {
                println!("audience:      {audience}");
            }
            println!("the secret is shown only now and cannot be recovered: store it safely");
        }
        ClientsAction::List => {
            let db = open_database(&settings).await?;
            println!(
                "{:<40} {:<24} {:<36} {:<16} {:<32} revoked",
                "client_id", "name", "scopes", "audience", "created"
            );
            for client in oauth_clients::list(&db).await? {
                println!(
                    "{:<40} {:<24} {:<36} {:<16} {:<32} {}",
                    client.client_id,
                    client.name,
                    client.scopes,
                    client.audience.as_deref().unwrap_or("(default)"),
                    client.created_at.to_rfc3339(),
                    client.revoked_at.map_or("-".to_owned(), |t| t.to_rfc3339())
                );
            }
        }
        ClientsAction::Revoke { client_id } => {
            let db = open_database(&settings).await?;
            if !oauth_clients::revoke(&db, &client_id).await? {
                anyhow::bail!("no active client {client_id}");
            }
            println!("revoked {client_id}");
        }
        ClientsAction::RotateSecret { client_id } => {
            let db = open_database(&settings).await?;
            let Some(secret) = oauth_clients::rotate_secret(&db, &client_id).await? else {
                anyhow::bail!("no active client {client_id}");
            };
            println!("client_id:     {client_id}");
            println!("client_secret: {}", secret.expose_secret());
            println!("the old secret no longer works; the new one is shown only now");
        }
        ClientsAction::Delete { client_id } => {
            let db = open_database(&settings).await?;
            if !oauth_clients::delete(&db, &client_id).await? {
                anyhow::bail!("no client {client_id}");
            }
            println!("deleted {client_id}");
        }
    }
    Ok(())
}

async fn outbox_list(settings: Settings, limit: u64) -> anyhow::Result<()> {
    let db = open_database(&settings).await?;
    println!(
        "{:<36} {:<32} {:>8} {:<32} {:<32} last error",
        "user_id", "created", "attempts", "next attempt", "delivered"
    );
    for record in auth_service::account_deletion::list_outbox(&db, limit).await? {
        println!(
            "{:<36} {:<32} {:>8} {:<32} {:<32} {}",
            record.user_id,
            record.created_at.to_rfc3339(),
            record.attempts,
            record.next_attempt_at.to_rfc3339(),
            record
                .delivered_at
                .map_or("-".to_owned(), |t| t.to_rfc3339()),
            record.last_error.as_deref().unwrap_or("-")
        );
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
