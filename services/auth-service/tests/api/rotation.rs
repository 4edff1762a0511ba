use std::time::Duration;

use auth_core::unverified;
use auth_service::entities::signing_keys::{self, SigningKeyState};
use auth_service::tokens::rotation::{self, ROTATION_LOCK_ID, RotateWhen, RotationOutcome};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, TransactionTrait,
};
use serde_json::{Value, json};
use service_database::on_both_backends;
use service_database::testing::Backend;
use service_runtime::testing::eventually;

use crate::helpers::{PASSWORD, TestApp};

on_both_backends!(
    rotation_publishes_before_signing_and_keeps_old_tokens_valid,
    an_operators_rotation_waits_until_the_next_key_is_ten_minutes_old,
    two_replicas_started_while_the_lock_is_held_rotate_once,
    two_cron_jobs_started_while_the_lock_is_held_rotate_once,
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

fn kid_of(token: &Value) -> String {
    let header = unverified::header(token.as_str().unwrap());
    header["kid"].as_str().unwrap().to_owned()
}

/// Waits (bounded) until the instance at `base` publishes `kid` first, i.e. signs with it.
async fn wait_until_signing(client: &reqwest::Client, base: &str, kid: &str) {
    eventually(
        Duration::from_secs(10),
        &format!("{base} switching to {kid}"),
        async || jwks_kids(client, base).await.first().map(String::as_str) == Some(kid),
    )
    .await;
}

async fn count_states(db: &DatabaseConnection) -> (usize, usize, usize) {
    let keys = rotation::list(db).await.unwrap();
    let count = |state| keys.iter().filter(|k| k.state == state).count();
    (
        count(SigningKeyState::Current),
        count(SigningKeyState::Next),
        count(SigningKeyState::Retired),
    )
}

/// Makes the current key `age` old (as if it had signed that long).
async fn age_current_key(db: &DatabaseConnection, age: chrono::Duration) {
    signing_keys::Entity::update_many()
        .col_expr(
            signing_keys::Column::ActivatedAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - age),
        )
        .filter(signing_keys::Column::State.eq(SigningKeyState::Current))
        .exec(db)
        .await
        .unwrap();
}

async fn rotation_publishes_before_signing_and_keeps_old_tokens_valid(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.keys.reload_interval_secs = 1).await;
    let before: Value = app
        .sign_up("rotate@example.org")
        .await
        .json()
        .await
        .unwrap();
    let old_token = before["access_token"].as_str().unwrap().to_owned();
    let published = jwks_kids(&app.client, &app.address).await;
    let (old_kid, next_kid) = (published[0].clone(), published[1].clone());
    assert_eq!(kid_of(&before["access_token"]), old_kid);

    let (db, master) = app.key_admin().await;
    let RotationOutcome::Rotated {
        retired,
        current,
        next,
    } = rotation::rotate(&db, &master, RotateWhen::Forced)
        .await
        .unwrap()
    else {
        panic!("a forced rotation always rotates");
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
    assert_eq!(kid_of(&after["access_token"]), current);
    // A token signed before the rotation still works until it expires.
    let me = app.get_authed("/api/auth/me", &old_token).await;
    assert_eq!(me.status().as_u16(), 200);

    // Retired keys go once every token they signed has expired, not before.
    assert_eq!(
        rotation::delete_retired_before(&db, chrono::Utc::now() - chrono::Duration::minutes(20))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        rotation::delete_retired_before(&db, chrono::Utc::now() + chrono::Duration::seconds(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(count_states(&db).await, (1, 1, 0));
}

/// The `--force` rule: validators refresh their JWKS every five minutes, so an operator's
/// rotation refuses to promote a `next` key published less than ten minutes ago.
async fn an_operators_rotation_waits_until_the_next_key_is_ten_minutes_old(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (db, master) = app.key_admin().await;
    let outcome = rotation::rotate(&db, &master, RotateWhen::Now)
        .await
        .unwrap();
    assert!(
        matches!(outcome, RotationOutcome::NextKeyTooNew { .. }),
        "{outcome:?}"
    );
    assert_eq!(count_states(&db).await, (1, 1, 0), "nothing changed");

    signing_keys::Entity::update_many()
        .col_expr(
            signing_keys::Column::CreatedAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::minutes(11)),
        )
        .filter(signing_keys::Column::State.eq(SigningKeyState::Next))
        .exec(&db)
        .await
        .unwrap();
    let outcome = rotation::rotate(&db, &master, RotateWhen::Now)
        .await
        .unwrap();
    assert!(
        matches!(outcome, RotationOutcome::Rotated { .. }),
        "{outcome:?}"
    );
    assert_eq!(count_states(&db).await, (1, 1, 1));
}

/// Holds the rotation lock from the test, the way a rotation in progress holds it: on
/// Postgres the advisory lock, on SQLite the database's write lock.
async fn hold_rotation_lock(db: &DatabaseConnection) -> DatabaseTransaction {
    let txn = db.begin().await.unwrap();
    if service_database::is_postgres(db) {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({ROTATION_LOCK_ID})"))
            .await
            .unwrap();
    } else {
        txn.execute_unprepared("UPDATE signing_keys SET state = state")
            .await
            .unwrap();
    }
    txn
}

/// Waits until `waiters` others wait for the lock the test holds. Postgres shows them in
/// `pg_locks`, so the overlap is certain; SQLite has no such view, so there the test gives
/// the waiters a second to reach the lock (they block in SQLite's busy handler, which waits
/// up to five seconds).
async fn wait_for_lock_waiters(db: &DatabaseConnection, waiters: i64) {
    if !service_database::is_postgres(db) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        return;
    }
    let waiting = async || -> i64 {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT count(*) AS waiting FROM pg_locks l \
                 JOIN pg_database d ON d.oid = l.database \
                 WHERE l.locktype = 'advisory' AND NOT l.granted \
                 AND d.datname = current_database()",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "waiting").unwrap()
    };
    eventually(
        Duration::from_secs(10),
        &format!("{waiters} rotations waiting on the lock"),
        async || waiting().await == waiters,
    )
    .await;
}

/// Two replicas' schedules fire while the test holds the rotation lock (as a rotation in
/// progress would), so both wait on it and go at once when it is let go. The lock makes one
/// rotate and the other find it no longer due. On Postgres the test sees both waiting before
/// it lets go; on SQLite it gives them a second to reach the lock. Without the lock, both
/// rotate (the test was run so once, and failed).
async fn two_replicas_started_while_the_lock_is_held_rotate_once(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.keys.reload_interval_secs = 1).await;
    let replica = app.replica().await;
    let (db, master) = app.key_admin().await;
    let (db2, master2) = app.key_admin().await;
    let (holder, _) = app.key_admin().await;
    // Old enough for the schedule used below (5 days), not for the replicas' own (30 days),
    // so their housekeeping cannot rotate it under the test.
    age_current_key(&db, chrono::Duration::days(10)).await;

    let lock = hold_rotation_lock(&holder).await;
    let due = RotateWhen::Due(chrono::Duration::days(5));
    let first = tokio::spawn(async move { rotation::rotate(&db, &master, due).await });
    let second = tokio::spawn(async move { rotation::rotate(&db2, &master2, due).await });
    wait_for_lock_waiters(&holder, 2).await;
    assert!(!first.is_finished() && !second.is_finished());
    lock.commit().await.unwrap();

    let outcomes = [
        first.await.unwrap().unwrap(),
        second.await.unwrap().unwrap(),
    ];
    let rotated: Vec<&RotationOutcome> = outcomes
        .iter()
        .filter(|o| matches!(o, RotationOutcome::Rotated { .. }))
        .collect();
    assert_eq!(rotated.len(), 1, "exactly one rotation: {outcomes:?}");
    assert!(outcomes.contains(&RotationOutcome::NotDue), "{outcomes:?}");
    let RotationOutcome::Rotated { current, .. } = rotated[0] else {
        unreachable!()
    };
    assert_eq!(count_states(&holder).await, (1, 1, 1));

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
    assert_eq!(kid_of(&on_first["access_token"]), *current);
    assert_eq!(kid_of(&on_replica["access_token"]), *current);
}

/// Two `auth-service keys rotate --if-due` processes (two machines' cron jobs) on one
/// database, both started while the test holds the rotation lock and let go together: one
/// rotates.
async fn two_cron_jobs_started_while_the_lock_is_held_rotate_once(backend: Backend) {
    use secrecy::ExposeSecret;
    // The app's own housekeeping stays out of the way (its first run is 120 s off).
    let app = TestApp::spawn_with(backend, |s| s.keys.reload_interval_secs = 120).await;
    let (db, _) = app.key_admin().await;
    age_current_key(&db, chrono::Duration::days(40)).await;

    let setting = |secret: &Option<secrecy::SecretString>| {
        secret.as_ref().unwrap().expose_secret().to_owned()
    };
    let database_url = setting(&app.settings.database.url);
    let master_key = setting(&app.settings.keys.master_key);
    let data_dir = app.settings.data_dir.clone();
    let cron_job = || {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_auth-service"))
            .args(["keys", "rotate", "--if-due"])
            .env_clear()
            .env("AUTH__DATABASE__URL", &database_url)
            .env("AUTH__KEYS__MASTER_KEY", &master_key)
            .env("AUTH__DATA_DIR", &data_dir)
            .output()
    };

    let lock = hold_rotation_lock(&db).await;
    let (first, second) = (tokio::spawn(cron_job()), tokio::spawn(cron_job()));
    wait_for_lock_waiters(&db, 2).await;
    assert!(!first.is_finished() && !second.is_finished());
    lock.commit().await.unwrap();

    let mut rotated = 0;
    for output in [
        first.await.unwrap().unwrap(),
        second.await.unwrap().unwrap(),
    ] {
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stdout}{stderr}");
        assert_eq!(stderr, "", "the CLI logs nothing without RUST_LOG");
        if stdout.starts_with("rotated:") {
            rotated += 1;
        } else {
            assert!(stdout.starts_with("not rotated"), "{stdout}");
        }
    }
    assert_eq!(rotated, 1, "exactly one process rotated");
    assert_eq!(count_states(&db).await, (1, 1, 1));
}
