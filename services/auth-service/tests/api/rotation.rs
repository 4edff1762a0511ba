use std::time::{Duration, Instant};

use auth_service::entities::signing_keys;
use auth_service::key_rotation::{self, RotationOutcome};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use service_database::on_both_backends;
use service_database::testing::Backend;

use crate::helpers::{PASSWORD, TestApp};

on_both_backends!(
    rotation_publishes_before_signing_and_keeps_old_tokens_valid,
    two_replicas_rotate_once,
    two_processes_rotate_once,
);

async fn jwks_kids(client: &reqwest::Client, base: &str) -> Vec<String> {
    let jwks: Value = client
        .get(format!("{base}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

fn kid_of(token: &str) -> String {
    use base64::Engine;
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

/// Waits (bounded) until the instance at `base` publishes `kid` first, i.e. signs with it.
async fn wait_until_signing(client: &reqwest::Client, base: &str, kid: &str) {
    let started = Instant::now();
    while jwks_kids(client, base).await.first().map(String::as_str) != Some(kid) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{base} never switched to {kid}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn rotation_publishes_before_signing_and_keeps_old_tokens_valid(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.keys.reload_interval_secs = 1).await else {
        return;
    };
    let before: Value = app
        .sign_up("rotate@example.org")
        .await
        .json()
        .await
        .unwrap();
    let old_token = before["access_token"].as_str().unwrap().to_owned();
    let published = jwks_kids(&app.client, &app.address).await;
    let (old_kid, next_kid) = (published[0].clone(), published[1].clone());
    assert_eq!(kid_of(&old_token), old_kid);

    let (db, master) = app.key_admin().await;
    let RotationOutcome::Rotated {
        retired,
        current,
        next,
    } = key_rotation::rotate(&db, &master, None).await.unwrap()
    else {
        panic!("an on-demand rotation always rotates");
    };
    assert_eq!(
        current, next_kid,
        "the key published as next is the one promoted"
    );
    assert_eq!(retired, std::slice::from_ref(&old_kid));

    wait_until_signing(&app.client, &app.address, &current).await;
    let kids = jwks_kids(&app.client, &app.address).await;
    assert_eq!(kids.len(), 3);
    assert!(kids.contains(&old_kid), "the retired key stays published");
    assert!(
        kids.contains(&next),
        "the new next key is published before it signs"
    );

    let after: Value = app
        .sign_in("rotate@example.org", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(kid_of(after["access_token"].as_str().unwrap()), current);
    // A token signed before the rotation still works until it expires.
    let me = app.get_authed("/api/auth/me", &old_token).await;
    assert_eq!(me.status().as_u16(), 200);

    // Retired keys go once every token they signed has expired, not before.
    assert_eq!(
        key_rotation::delete_retired_before(
            &db,
            chrono::Utc::now() - chrono::Duration::minutes(20)
        )
        .await
        .unwrap(),
        0
    );
    assert_eq!(
        key_rotation::delete_retired_before(&db, chrono::Utc::now() + chrono::Duration::seconds(1))
            .await
            .unwrap(),
        1
    );
    let states: Vec<String> = key_rotation::list(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.state)
        .collect();
    assert_eq!(states.iter().filter(|s| *s == "current").count(), 1);
    assert_eq!(states.iter().filter(|s| *s == "next").count(), 1);
    assert_eq!(states.len(), 2);
    app.finish().await;
}

async fn two_replicas_rotate_once(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.keys.reload_interval_secs = 1).await else {
        return;
    };
    let replica = app.replica().await;
    let (db, master) = app.key_admin().await;
    let (db2, master2) = app.key_admin().await;
    // Make the current key old enough for the schedule used below (5 days), but not for the
    // replicas' own (30 days), so their housekeeping cannot rotate it under the test.
    signing_keys::Entity::update_many()
        .col_expr(
            signing_keys::Column::ActivatedAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::days(10)),
        )
        .filter(signing_keys::Column::State.eq("current"))
        .exec(&db)
        .await
        .unwrap();

    // Both replicas' schedules fire at once.
    let interval = Some(chrono::Duration::days(5));
    let (first, second) = tokio::join!(
        key_rotation::rotate(&db, &master, interval),
        key_rotation::rotate(&db2, &master2, interval),
    );
    let outcomes = [first.unwrap(), second.unwrap()];
    let rotated: Vec<&RotationOutcome> = outcomes
        .iter()
        .filter(|o| matches!(o, RotationOutcome::Rotated { .. }))
        .collect();
    assert_eq!(rotated.len(), 1, "exactly one rotation: {outcomes:?}");
    let RotationOutcome::Rotated { current, .. } = rotated[0] else {
        unreachable!()
    };

    let keys = key_rotation::list(&db).await.unwrap();
    let count = |state: &str| keys.iter().filter(|k| k.state == state).count();
    assert_eq!(
        (count("current"), count("next"), count("retired")),
        (1, 1, 1)
    );

    // Both replicas follow within their reload interval and sign with the new key.
    wait_until_signing(&app.client, &app.address, current).await;
    wait_until_signing(&app.client, &replica, current).await;
    let on_first: Value = app.sign_up("one@example.org").await.json().await.unwrap();
    let on_replica: Value = app
        .client
        .post(format!("{replica}/api/auth/sign-in"))
        .json(&json!({ "email": "one@example.org", "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(kid_of(on_first["access_token"].as_str().unwrap()), *current);
    assert_eq!(
        kid_of(on_replica["access_token"].as_str().unwrap()),
        *current
    );
    let _ = (db.close().await, db2.close().await);
    app.finish().await;
}

/// Two `auth-service keys rotate --if-due` processes (two machines' cron jobs) on one
/// database: the lock makes exactly one of them rotate.
async fn two_processes_rotate_once(backend: Backend) {
    use secrecy::ExposeSecret;
    // The app's own housekeeping stays out of the way (its first run is 120 s off).
    let Some(app) = TestApp::spawn_with(backend, |s| s.keys.reload_interval_secs = 120).await
    else {
        return;
    };
    let (db, _) = app.key_admin().await;
    signing_keys::Entity::update_many()
        .col_expr(
            signing_keys::Column::ActivatedAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::days(40)),
        )
        .filter(signing_keys::Column::State.eq("current"))
        .exec(&db)
        .await
        .unwrap();

    let database_url = app
        .settings
        .database
        .url
        .as_ref()
        .unwrap()
        .expose_secret()
        .to_owned();
    let master_key = app
        .settings
        .keys
        .master_key
        .as_ref()
        .unwrap()
        .expose_secret()
        .to_owned();
    let data_dir = app.settings.data_dir.clone();
    let outputs = tokio::task::spawn_blocking(move || {
        let children: Vec<_> = (0..2)
            .map(|_| {
                std::process::Command::new(env!("CARGO_BIN_EXE_auth-service"))
                    .args(["keys", "rotate", "--if-due"])
                    .env_clear()
                    .env("AUTH__DATABASE__URL", &database_url)
                    .env("AUTH__KEYS__MASTER_KEY", &master_key)
                    .env("AUTH__DATA_DIR", &data_dir)
                    .env("RUST_LOG", "warn")
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        children
            .into_iter()
            .map(|child| child.wait_with_output().unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    let mut rotated = 0;
    for output in &outputs {
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        if stdout.starts_with("rotated:") {
            rotated += 1;
        } else {
            assert!(stdout.starts_with("not rotated"), "{stdout}");
        }
    }
    assert_eq!(rotated, 1, "exactly one process rotated");
    let keys = key_rotation::list(&db).await.unwrap();
    let count = |state: &str| keys.iter().filter(|k| k.state == state).count();
    assert_eq!(
        (count("current"), count("next"), count("retired")),
        (1, 1, 1)
    );
    let _ = db.close().await;
    app.finish().await;
}
