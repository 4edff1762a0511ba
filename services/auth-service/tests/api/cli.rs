//! The `auth-service` command line as an operator or a script uses it: results on stdout
//! (a table, or JSON with `--json`), nothing on stderr unless something is wrong or RUST_LOG
//! asks for logs, an error as one line on stderr with exit code 1, and an example in every
//! subcommand's `--help`.

use std::process::Output;

use secrecy::ExposeSecret;
use serde_json::Value;
use service_database::on_both_backends;
use service_database::testing::Backend;

use crate::helpers::TestApp;

on_both_backends!(
    lists_print_only_their_results_and_json_on_request,
    errors_are_one_line_on_stderr_with_exit_code_1,
    logs_appear_when_rust_log_asks,
    a_revoked_declared_client_stays_revoked_until_enabled,
    healthcheck_exits_0_for_a_ready_service_and_1_otherwise,
);

/// Runs `auth-service args…` against the app's database, with only the environment given.
async fn cli(app: &TestApp, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
    let setting = |secret: &Option<secrecy::SecretString>| {
        secret.as_ref().unwrap().expose_secret().to_owned()
    };
    tokio::process::Command::new(env!("CARGO_BIN_EXE_auth-service"))
        .args(args)
        .env_clear()
        .env("AUTH__DATABASE__URL", setting(&app.settings.database.url))
        .env(
            "AUTH__KEYS__MASTER_KEY",
            setting(&app.settings.keys.master_key),
        )
        .env("AUTH__DATA_DIR", &app.settings.data_dir)
        .envs(extra_env.iter().copied())
        .output()
        .await
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Succeeded, printing nothing on stderr; its stdout.
fn quiet_success(output: &Output) -> String {
    assert!(output.status.success(), "{}", stderr(output));
    assert_eq!(stderr(output), "", "nothing on stderr without RUST_LOG");
    stdout(output)
}

async fn lists_print_only_their_results_and_json_on_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (client_id, _) = app.create_client("reporter", "tasks:read").await;

    let table = quiet_success(&cli(&app, &["keys", "list"], &[]).await);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("kid"), "{table}");
    assert_eq!(
        lines.len(),
        3,
        "a header, the current and the next key: {table}"
    );

    let keys: Value = serde_json::from_str(&quiet_success(
        &cli(&app, &["keys", "list", "--json"], &[]).await,
    ))
    .unwrap();
    let mut states: Vec<&str> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["state"].as_str().unwrap())
        .collect();
    states.sort();
    assert_eq!(states, ["current", "next"]);
    for key in keys.as_array().unwrap() {
        assert_eq!(key["algorithm"], "EdDSA");
        assert!(
            key["kid"].is_string() && key["created_at"].is_string(),
            "{key}"
        );
        assert!(key.get("private_key_encrypted").is_none(), "{key}");
    }

    let clients: Value = serde_json::from_str(&quiet_success(
        &cli(&app, &["clients", "list", "--json"], &[]).await,
    ))
    .unwrap();
    assert_eq!(clients.as_array().unwrap().len(), 1, "{clients}");
    let client = &clients[0];
    assert_eq!(client["client_id"], client_id.as_str());
    assert_eq!(client["name"], "reporter");
    assert_eq!(client["scopes"], "tasks:read");
    assert_eq!(client["audience"], Value::Null);
    assert_eq!(client["revoked_at"], Value::Null);
    assert!(
        client.get("secret_hash").is_none(),
        "never the secret: {client}"
    );

    let outbox = quiet_success(&cli(&app, &["outbox", "list", "--json"], &[]).await);
    assert_eq!(
        serde_json::from_str::<Value>(&outbox).unwrap(),
        Value::Array(vec![])
    );
}

async fn errors_are_one_line_on_stderr_with_exit_code_1(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (args, says) in [
        (
            vec![
                "clients",
                "revoke",
                "svc-00000000-0000-7000-8000-000000000000",
            ],
            "no active client svc-00000000-0000-7000-8000-000000000000",
        ),
        (
            vec!["clients", "create", "--name", "x", "--scope", "tasks:admin"],
            "unknown scope `tasks:admin`",
        ),
        // The next key was published moments ago: validators may not have it yet.
        (vec!["keys", "rotate"], "Wait, or pass --force"),
    ] {
        let output = cli(&app, &args, &[]).await;
        let stderr = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stdout(&output), "", "{args:?}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: one line: {stderr}");
        assert!(stderr.starts_with("auth-service: error: "), "{stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    // A configuration error is one line too.
    let output = cli(
        &app,
        &["keys", "list"],
        &[("AUTH__TOKENS__ACCESS_TTL_SECS", "5")],
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stderr(&output).lines().count(), 1, "{}", stderr(&output));
    assert!(stderr(&output).contains("AUTH__TOKENS__ACCESS_TTL_SECS"));
}

async fn logs_appear_when_rust_log_asks(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let output = cli(&app, &["keys", "list", "--json"], &[("RUST_LOG", "info")]).await;
    assert!(output.status.success());
    // Results stay on stdout, parseable; the log lines go to stderr.
    serde_json::from_str::<Value>(&stdout(&output)).unwrap();
    assert!(
        stderr(&output).contains("opening the database"),
        "{}",
        stderr(&output)
    );
}

/// The status of a client_credentials request from `client_id` to the instance at `address`.
async fn client_credentials_status(
    app: &TestApp,
    address: &str,
    client_id: &str,
    secret: &str,
) -> u16 {
    app.client
        .post(format!("{address}/oauth/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// `[[clients]]` brings a declared client up to date at every start, but a revocation is the
/// operator's: it survives a restart, and only `clients enable` lifts it.
async fn a_revoked_declared_client_stays_revoked_until_enabled(backend: Backend) {
    const ID: &str = "svc-01935c2e-0000-7000-8000-0000000e0ab1";
    const SECRET: &str = "a-secret-of-at-least-thirty-two-characters";
    let app = TestApp::spawn_with(backend, |settings| {
        settings.clients = vec![auth_service::config::DeclaredClient {
            client_id: ID.to_owned(),
            name: "account purger".to_owned(),
            scopes: "tasks:purge".to_owned(),
            audience: None,
            secret_env: "PURGER_SECRET".to_owned(),
            secret: Some(secrecy::SecretString::from(SECRET)),
        }];
    })
    .await;
    assert_eq!(
        client_credentials_status(&app, &app.address, ID, SECRET).await,
        200
    );

    assert_eq!(
        quiet_success(&cli(&app, &["clients", "revoke", ID], &[]).await),
        format!("revoked {ID}\n")
    );
    assert_eq!(
        client_credentials_status(&app, &app.address, ID, SECRET).await,
        401
    );
    // A restart on the same database (a new instance runs the start-up upsert again).
    let restarted = app.replica().await;
    assert_eq!(
        client_credentials_status(&app, &restarted, ID, SECRET).await,
        401
    );

    assert_eq!(
        quiet_success(&cli(&app, &["clients", "enable", ID], &[]).await),
        format!("enabled {ID}\n")
    );
    assert_eq!(
        client_credentials_status(&app, &restarted, ID, SECRET).await,
        200
    );
    let again = cli(&app, &["clients", "enable", ID], &[]).await;
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains(&format!("no revoked client {ID}")),
        "{}",
        stderr(&again)
    );
}

#[test]
fn every_subcommand_has_an_example_in_its_help() {
    for args in [
        vec![],
        vec!["serve"],
        vec!["migrate"],
        vec!["keys"],
        vec!["keys", "list"],
        vec!["keys", "rotate"],
        vec!["clients"],
        vec!["clients", "create"],
        vec!["clients", "list"],
        vec!["clients", "revoke"],
        vec!["clients", "enable"],
        vec!["clients", "rotate-secret"],
        vec!["clients", "delete"],
        vec!["outbox"],
        vec!["outbox", "list"],
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_auth-service"))
            .args(&args)
            .arg("--help")
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}");
        let help = String::from_utf8(output.stdout).unwrap();
        let example = help
            .split_once("Example")
            .map(|(_, rest)| rest)
            .unwrap_or_else(|| panic!("{args:?} --help has no example:\n{help}"));
        assert!(example.contains("auth-service"), "{args:?}:\n{help}");
    }
}

/// `auth-service healthcheck`, as a container's HEALTHCHECK runs it beside the server.
async fn healthcheck_exits_0_for_a_ready_service_and_1_otherwise(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let port = app.address.rsplit(':').next().unwrap().to_owned();
    for args in [&["healthcheck"][..], &["healthcheck", "--live"]] {
        let ready = cli(&app, args, &[("AUTH__HTTP__PORT", &port)]).await;
        assert_eq!(quiet_success(&ready).trim(), "ok");
    }
    // Listening on every address: asked on loopback.
    let wildcard = cli(
        &app,
        &["healthcheck"],
        &[("AUTH__HTTP__PORT", &port), ("AUTH__HTTP__HOST", "0.0.0.0")],
    )
    .await;
    assert_eq!(quiet_success(&wildcard).trim(), "ok");

    let free = service_runtime::testing::free_port().to_string();
    let down = cli(&app, &["healthcheck"], &[("AUTH__HTTP__PORT", &free)]).await;
    assert_eq!(down.status.code(), Some(1));
    assert!(
        stderr(&down).contains("nothing answers"),
        "{}",
        stderr(&down)
    );
}
