//! Accounts, sessions, failed logins and account-owned tokens (migration
//! 0011) on both backends: each change audited in its transaction.

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use lazaret_core::account::Username;
use lazaret_core::audit::AuditRecord;
use lazaret_core::district::DistrictScope;
use lazaret_core::ids::{TokenId, UserId};
use lazaret_core::user::Role;
use lazaret_store::backends;
use lazaret_store::testing::{first_broken_link, TestDb};
use lazaret_store::{
    FailurePolicy, SessionRecord, StoreError, TokenRecord, UserChange, UserRecord,
};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap()
}

fn audit(action: &str, id: &str) -> AuditRecord {
    AuditRecord {
        at: t0(),
        actor: "test".into(),
        action: action.into(),
        subject_type: "user".into(),
        subject_id: id.into(),
        details: String::new(),
    }
}

fn user(name: &str) -> UserRecord {
    UserRecord {
        id: UserId::generate(),
        username: Username::parse(name).unwrap(),
        role: Role::Investigator,
        districts: DistrictScope::parse("north").unwrap(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        totp_secret: None,
        disabled_at: None,
        failed_logins: 0,
        locked_until: None,
        created_at: t0(),
        updated_at: t0(),
        language: None,
    }
}

backends!(accounts_are_unique_by_name_and_changes_are_audited);
async fn accounts_are_unique_by_name_and_changes_are_audited(db: TestDb) {
    let s = &db.store;
    let alice = user("alice");
    s.insert_user(&alice, &audit("user.create", "alice"))
        .await
        .unwrap();
    let err = s
        .insert_user(&user("alice"), &audit("user.create", "alice"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    assert_eq!(
        s.get_user_by_name("alice").await.unwrap(),
        Some(alice.clone())
    );
    assert_eq!(s.get_user_by_name("bob").await.unwrap(), None);

    let later = t0() + Duration::hours(1);
    let north_south = DistrictScope::parse("north,south").unwrap();
    s.update_user(
        &alice.id,
        &UserChange::Districts(north_south.clone()),
        later,
        &audit("user.set_districts", "alice"),
    )
    .await
    .unwrap();
    s.update_user(
        &alice.id,
        &UserChange::Totp("SECRET".into()),
        later,
        &audit("user.totp_enroll", "alice"),
    )
    .await
    .unwrap();
    let got = s.get_user(&alice.id).await.unwrap().unwrap();
    assert_eq!(got.districts, north_south);
    assert_eq!(got.totp_secret.as_deref(), Some("SECRET"));
    assert_eq!(got.updated_at, later);
    assert!(
        !format!("{got:?}").contains("SECRET"),
        "Debug hides the secret"
    );
    // A TOTP step is taken once, and never an earlier one after it.
    assert!(s.claim_totp_step(&alice.id, 100).await.unwrap());
    assert!(!s.claim_totp_step(&alice.id, 100).await.unwrap());
    assert!(!s.claim_totp_step(&alice.id, 99).await.unwrap());
    assert!(s.claim_totp_step(&alice.id, 101).await.unwrap());
    let missing = s
        .update_user(
            &UserId::generate(),
            &UserChange::Disable,
            later,
            &audit("user.disable", "x"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(missing, StoreError::NotFound { .. }),
        "{missing:?}"
    );
    s.insert_user(&user("bob"), &audit("user.create", "bob"))
        .await
        .unwrap();
    let names: Vec<_> = s
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username.to_string())
        .collect();
    assert_eq!(names, ["alice", "bob"]);
    let events = s.audit_events_for("user", "alice").await.unwrap();
    let actions: Vec<_> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["user.create", "user.set_districts", "user.totp_enroll"]
    );
    let all = s.audit_events(0, 1000).await.unwrap();
    assert_eq!(first_broken_link(&all), None);
}

backends!(failures_lock_an_account_and_count_per_address);
async fn failures_lock_an_account_and_count_per_address(db: TestDb) {
    let s = &db.store;
    let alice = user("alice");
    s.insert_user(&alice, &audit("user.create", "alice"))
        .await
        .unwrap();
    let policy = |at: DateTime<Utc>| FailurePolicy {
        max_failures: 3,
        lock_until: at + Duration::minutes(15),
    };
    let mut at = t0();
    for i in 1..=3 {
        at += Duration::seconds(10);
        let locked = s
            .record_login_failure(
                "10.0.0.1",
                Some((&alice.id, policy(at))),
                at,
                at - Duration::minutes(15),
                &audit("auth.login_failed", "alice"),
            )
            .await
            .unwrap();
        assert_eq!(locked, i == 3, "failure {i}");
    }
    let got = s.get_user(&alice.id).await.unwrap().unwrap();
    assert_eq!(got.locked_until, Some(at + Duration::minutes(15)));
    assert_eq!(got.failed_logins, 0, "the count restarts with the lock");
    // An unknown name counts for the address only.
    s.record_login_failure(
        "10.0.0.2",
        None,
        at,
        at - Duration::minutes(15),
        &audit("auth.login_failed", "x"),
    )
    .await
    .unwrap();
    assert_eq!(s.login_failures_since("10.0.0.1", t0()).await.unwrap(), 3);
    assert_eq!(s.login_failures_since("10.0.0.2", t0()).await.unwrap(), 1);
    assert_eq!(s.login_failures_since("10.0.0.1", at).await.unwrap(), 0);
    // Old rows are forgotten as new ones arrive.
    let much_later = at + Duration::hours(1);
    s.record_login_failure(
        "10.0.0.3",
        None,
        much_later,
        much_later - Duration::minutes(15),
        &audit("auth.login_failed", "y"),
    )
    .await
    .unwrap();
    assert_eq!(s.login_failures_since("10.0.0.1", t0()).await.unwrap(), 0);
    assert_eq!(s.audit_events_for("user", "alice").await.unwrap().len(), 4);
}

backends!(sessions_are_kept_by_hash_and_end_with_the_account);
async fn sessions_are_kept_by_hash_and_end_with_the_account(db: TestDb) {
    let s = &db.store;
    let alice = user("alice");
    s.insert_user(&alice, &audit("user.create", "alice"))
        .await
        .unwrap();
    let session = |h: &str| SessionRecord {
        id_hash: h.into(),
        user_id: alice.id.clone(),
        created_at: t0(),
        last_seen_at: t0(),
        expires_at: t0() + Duration::hours(12),
        ended_at: None,
    };
    s.insert_session(&session("h1"), &audit("auth.login", "alice"))
        .await
        .unwrap();
    s.insert_session(&session("h2"), &audit("auth.login", "alice"))
        .await
        .unwrap();
    let later = t0() + Duration::minutes(10);
    s.touch_session("h1", later).await.unwrap();
    let (got, owner) = s.get_session("h1").await.unwrap().unwrap();
    assert_eq!(got.last_seen_at, later);
    assert_eq!(owner.username.as_str(), "alice");
    assert!(s.get_session("nope").await.unwrap().is_none());

    assert!(s
        .end_session("h1", later, &audit("auth.logout", "alice"))
        .await
        .unwrap());
    assert!(!s
        .end_session("h1", later, &audit("auth.logout", "alice"))
        .await
        .unwrap());
    assert_eq!(
        s.get_session("h1").await.unwrap().unwrap().0.ended_at,
        Some(later)
    );

    // Disabling ends every open session at once.
    s.update_user(
        &alice.id,
        &UserChange::Disable,
        later,
        &audit("user.disable", "alice"),
    )
    .await
    .unwrap();
    let (h2, owner) = s.get_session("h2").await.unwrap().unwrap();
    assert_eq!(h2.ended_at, Some(later));
    assert_eq!(owner.disabled_at, Some(later));
}

backends!(tokens_name_their_owner_and_expiry);
async fn tokens_name_their_owner_and_expiry(db: TestDb) {
    let s = &db.store;
    let alice = user("alice");
    s.insert_user(&alice, &audit("user.create", "alice"))
        .await
        .unwrap();
    let token = |id: &str, owner: Option<&UserId>| TokenRecord {
        id: TokenId::parse(id).unwrap(),
        secret_hash: "ab".repeat(32),
        role: Role::Investigator,
        districts: DistrictScope::All,
        label: "x".into(),
        created_at: t0(),
        revoked_at: None,
        user_id: owner.cloned(),
        expires_at: Some(t0() + Duration::days(90)),
    };
    let mine = token("t1", Some(&alice.id));
    s.insert_token(&mine, &audit("token.create", "t1"))
        .await
        .unwrap();
    s.insert_token(&token("t2", None), &audit("token.create", "t2"))
        .await
        .unwrap();
    assert_eq!(s.get_token(&mine.id).await.unwrap(), Some(mine.clone()));
    let listed = s.list_tokens().await.unwrap();
    let owners: Vec<_> = listed.iter().map(|t| t.username.as_deref()).collect();
    assert_eq!(owners, [Some("alice"), None]);
    assert_eq!(listed[0].token, mine);
}
