//! Officer accounts, their API tokens and their console sessions: the use
//! cases behind `lazaret users`, `lazaret token` and the login pages.
//!
//! Passwords are hashed with argon2id at OWASP's parameters (19 MiB, two
//! passes, one lane) on a blocking thread. A login is judged in a fixed
//! order (client address, account, password, second factor) and every
//! refusal is audited with its reason, while the caller is told only that
//! the login failed. Sessions are found by the SHA-256 of their cookie and
//! judged against the app's clock.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng as HashRng;
use argon2::password_hash::SaltString;
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use chrono::{DateTime, Duration, Utc};
use lazaret_core::account::{check_password, LoginFailure, Username};
use lazaret_core::audit::AuditRecord;
use lazaret_core::district::DistrictScope;
use lazaret_core::ids::{TokenId, UserId};
use lazaret_core::user::Role;
use lazaret_core::ValidationError;
use lazaret_store::{
    FailurePolicy, SessionRecord, StoreError, TokenListing, TokenRecord, UserChange, UserRecord,
};
use rand::RngCore;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::auth::{issue_token, NewToken};
use crate::prompting::hash_token;
use crate::services::login_gate::hashing_permit;
use crate::services::Actor;
use crate::state::AppState;
use crate::template_crypto::TemplateKeys;

/// Why an account or token use case refused or failed.
#[derive(Debug, Error)]
pub enum AccountError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("there is no account {0}")]
    NoSuchUser(String),
    #[error("an account {0} exists already")]
    UserExists(String),
    #[error("account {0} is disabled")]
    Disabled(String),
    #[error("there is no token {0}")]
    NoSuchToken(String),
    #[error("hashing the password failed")]
    Hashing,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a login was refused. Only [`LoginError::TotpNotEnrolled`] is shown
/// as it is (it follows a right password); everything else shows one
/// generic message, so that nobody learns which usernames exist.
#[derive(Debug, Error)]
pub enum LoginError {
    #[error(
        "The username, password or code is not right, or signing in is paused for a while. Check them and try again later."
    )]
    Refused(LoginFailure),
    #[error("Your role requires a second factor (a one-time code) and none is set up for your account. Ask an administrator to enrol one (lazaret users totp-enroll).")]
    TotpNotEnrolled,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// OWASP's current argon2id parameters: 19 MiB, two passes, one lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The argon2id PHC string of `password`, which must meet the length rule.
pub async fn hash_password(password: &str) -> Result<String, AccountError> {
    check_password(password)?;
    let password = password.to_owned();
    let _permit = hashing_permit().await;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut HashRng);
        hasher()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(|_| AccountError::Hashing)?
    .map_err(|_| AccountError::Hashing)
}

/// Whether `password` matches `hash` (parameters read from the hash).
async fn password_matches(hash: String, password: String) -> bool {
    let _permit = hashing_permit().await;
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash no password matches in practice, checked for unknown usernames
/// so that they take as long as known ones.
fn decoy_hash() -> String {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY
        .get_or_init(|| {
            let salt = SaltString::generate(&mut HashRng);
            hasher()
                .hash_password(b"decoy password, never used", &salt)
                .map(|h| h.to_string())
                .unwrap_or_default()
        })
        .clone()
}

/// What `users list` shows: never the hash or the TOTP secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSummary {
    pub username: Username,
    pub role: Role,
    pub districts: DistrictScope,
    pub totp: bool,
    pub disabled_at: Option<DateTime<Utc>>,
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<&UserRecord> for AccountSummary {
    fn from(u: &UserRecord) -> Self {
        Self {
            username: u.username.clone(),
            role: u.role,
            districts: u.districts.clone(),
            totp: u.totp_secret.is_some(),
            disabled_at: u.disabled_at,
            locked_until: u.locked_until,
            created_at: u.created_at,
        }
    }
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    pub role: Role,
    pub districts: DistrictScope,
    pub password: String,
}

async fn account(state: &AppState, username: &str) -> Result<UserRecord, AccountError> {
    state
        .store
        .get_user_by_name(username)
        .await?
        .ok_or_else(|| AccountError::NoSuchUser(username.to_owned()))
}

pub async fn create_user(
    state: &AppState,
    actor: &Actor,
    new: NewAccount,
) -> Result<AccountSummary, AccountError> {
    let username = Username::parse(&new.username)?;
    let hash = hash_password(&new.password).await?;
    let now = state.now();
    let user = UserRecord {
        id: UserId::generate(),
        username: username.clone(),
        role: new.role,
        districts: new.districts.clone(),
        password_hash: hash,
        totp_secret: None,
        disabled_at: None,
        failed_logins: 0,
        locked_until: None,
        created_at: now,
        updated_at: now,
        language: None,
    };
    let audit = actor.audit(
        now,
        "user.create",
        "user",
        username.as_str(),
        format!("role={} districts={}", new.role, new.districts),
    );
    match state.store.insert_user(&user, &audit).await {
        Err(StoreError::Conflict { .. }) => Err(AccountError::UserExists(username.to_string())),
        r => r.map(|()| AccountSummary::from(&user)).map_err(Into::into),
    }
}

pub async fn list_users(state: &AppState) -> Result<Vec<AccountSummary>, AccountError> {
    Ok(state
        .store
        .list_users()
        .await?
        .iter()
        .map(AccountSummary::from)
        .collect())
}

async fn change(
    state: &AppState,
    actor: &Actor,
    user: &UserRecord,
    change: UserChange,
    action: &str,
    details: String,
) -> Result<(), AccountError> {
    let now = state.now();
    let audit = actor.audit(now, action, "user", user.username.as_str(), details);
    state
        .store
        .update_user(&user.id, &change, now, &audit)
        .await?;
    Ok(())
}

/// Disables an account: its sessions end now and its tokens stop working.
pub async fn disable_user(
    state: &AppState,
    actor: &Actor,
    username: &str,
) -> Result<(), AccountError> {
    let user = account(state, username).await?;
    // An administrator who disabled their own account would be locked out
    // with nobody left to undo it from the console.
    if actor.name() == format!("user:{}", user.username) {
        return Err(ValidationError::new("username", "you cannot disable your own account").into());
    }
    change(
        state,
        actor,
        &user,
        UserChange::Disable,
        "user.disable",
        String::new(),
    )
    .await
}

/// A new password (clears the failure count and any lock).
pub async fn reset_password(
    state: &AppState,
    actor: &Actor,
    username: &str,
    password: &str,
) -> Result<(), AccountError> {
    let user = account(state, username).await?;
    let hash = hash_password(password).await?;
    change(
        state,
        actor,
        &user,
        UserChange::Password(hash),
        "user.reset_password",
        String::new(),
    )
    .await
}

/// New districts; the account's tokens and sessions act in them from their
/// next request on.
pub async fn set_districts(
    state: &AppState,
    actor: &Actor,
    username: &str,
    districts: DistrictScope,
) -> Result<(), AccountError> {
    let user = account(state, username).await?;
    let details = format!("from={} to={districts}", user.districts);
    change(
        state,
        actor,
        &user,
        UserChange::Districts(districts),
        "user.set_districts",
        details,
    )
    .await
}

/// Clears the account's failed logins and any lockout (an administrator
/// who checked with the officer); audited `user.unlock`.
pub async fn unlock_user(
    state: &AppState,
    actor: &Actor,
    username: &str,
) -> Result<(), AccountError> {
    let user = account(state, username).await?;
    let details = format!(
        "failed_logins={} locked_until={}",
        user.failed_logins,
        user.locked_until
            .map_or_else(|| "none".to_owned(), |t| t.to_rfc3339())
    );
    change(
        state,
        actor,
        &user,
        UserChange::Unlock,
        "user.unlock",
        details,
    )
    .await
}

/// One account as the console's accounts pages show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountDetail {
    pub summary: AccountSummary,
    /// Wrong passwords or codes in a row.
    pub failed_logins: i64,
    /// The start of its newest console session.
    pub last_login: Option<DateTime<Utc>>,
}

/// Every account with its failures and last sign-in, by username.
pub async fn list_accounts(state: &AppState) -> Result<Vec<AccountDetail>, AccountError> {
    let logins = state.store.last_logins().await?;
    Ok(state
        .store
        .list_users()
        .await?
        .iter()
        .map(|u| AccountDetail {
            summary: AccountSummary::from(u),
            failed_logins: u.failed_logins,
            last_login: logins.get(&u.id).copied(),
        })
        .collect())
}

/// Account `username` and its API tokens (revoked and expired ones too).
pub async fn account_detail(
    state: &AppState,
    username: &str,
) -> Result<(AccountDetail, Vec<TokenRecord>), AccountError> {
    let user = account(state, username).await?;
    let logins = state.store.last_logins().await?;
    let tokens = state
        .store
        .list_tokens()
        .await?
        .into_iter()
        .map(|l| l.token)
        .filter(|t| t.user_id.as_ref() == Some(&user.id))
        .collect();
    Ok((
        AccountDetail {
            summary: AccountSummary::from(&user),
            failed_logins: user.failed_logins,
            last_login: logins.get(&user.id).copied(),
        },
        tokens,
    ))
}

/// A random password for an account an administrator creates or resets:
/// 20 characters of an alphabet without look-alikes (about 115 bits),
/// shown once to the administrator, who hands it over.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    // 256 is not a multiple of the alphabet's 56: draw again above the
    // largest multiple, so every character is equally likely.
    let mut out = String::with_capacity(20);
    let limit = 256 - 256 % ALPHABET.len();
    let mut pool = bytes.to_vec();
    while out.len() < 20 {
        let Some(b) = pool.pop() else {
            let mut more = [0u8; 20];
            rand::rngs::OsRng.fill_bytes(&mut more);
            pool.extend_from_slice(&more);
            continue;
        };
        if usize::from(b) < limit {
            out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
        }
    }
    out
}

/// The console's language of the signed-in officer (`None`: the browser's),
/// chosen by themselves on their account page; audited `user.language`.
pub async fn set_language(
    state: &AppState,
    session: &ConsoleSession,
    language: Option<crate::pages::Lang>,
) -> Result<(), AccountError> {
    let user = account(state, session.username.as_str()).await?;
    let code = language.map(|l| l.code().to_owned());
    let details = format!("language={}", code.as_deref().unwrap_or("browser"));
    change(
        state,
        &session.actor(),
        &user,
        UserChange::Language(code),
        "user.language",
        details,
    )
    .await
}

/// TOTP as the console checks it: SHA-1, six digits, 30-second steps, one
/// step of drift either way.
fn totp(secret_b32: &str) -> Option<totp_rs::TOTP> {
    let bytes = totp_rs::Secret::Encoded(secret_b32.to_owned())
        .to_bytes()
        .ok()?;
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes).ok()
}

/// The 30-second step whose TOTP of `secret_b32` is `code`, among the
/// steps at `now` and one either side; `None` when none is.
pub fn totp_step(secret_b32: &str, code: &str, now: DateTime<Utc>) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret_b32)?;
    let step = now.timestamp().div_euclid(30);
    // All three compared, in constant time, whichever matches.
    let mut found = None;
    for s in [step - 1, step, step + 1] {
        let Ok(t) = u64::try_from(s * 30) else {
            continue;
        };
        let expected = totp.generate(t);
        let same = expected
            .bytes()
            .zip(code.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0;
        if same && found.is_none() {
            found = Some(s);
        }
    }
    found
}

/// Whether `code` is the TOTP of `secret_b32` at `now` (± one step).
pub fn totp_matches(secret_b32: &str, code: &str, now: DateTime<Utc>) -> bool {
    totp_step(secret_b32, code, now).is_some()
}

/// The current code of `secret_b32` (for tests and drills).
pub fn totp_code(secret_b32: &str, now: DateTime<Utc>) -> Option<String> {
    let t = u64::try_from(now.timestamp()).ok()?;
    Some(totp(secret_b32)?.generate(t))
}

/// How a sealed TOTP key is stored: `x2:<key id>:<nonce hex>:<ciphertext hex>`,
/// or `x1:<nonce hex>:<ciphertext hex>` from before keys had ids (sealed with
/// the key whose id is `k1`). Base32 has no `:`, so an unsealed key is told apart.
const SEALED_TOTP: &str = "x2:";
const SEALED_TOTP_V1: &str = "x1:";

/// The stored form of a TOTP key: sealed with the current template key (the
/// server's key for secrets at rest) and bound to the account's id when one
/// is configured, so that a copy of the database gives no second factor;
/// as is without one.
fn seal_totp(state: &AppState, user: &UserId, secret_b32: &str) -> String {
    match TemplateKeys::from_config(&state.config) {
        Ok(keys) => seal_totp_with(&keys, user.as_str(), secret_b32),
        Err(_) => secret_b32.to_owned(),
    }
}

/// [`seal_totp`] with given keys (also `lazaret keys rotate`'s re-seal).
pub(crate) fn seal_totp_with(keys: &TemplateKeys, user: &str, secret_b32: &str) -> String {
    let s = keys.seal(&format!("totp:{user}"), secret_b32.as_bytes());
    format!(
        "{SEALED_TOTP}{}:{}:{}",
        s.key_id,
        hex::encode(s.nonce),
        hex::encode(s.ciphertext)
    )
}

/// The key id a stored TOTP form is sealed under; `None` when it is not sealed.
pub(crate) fn totp_key_id(stored: &str) -> Option<&str> {
    if stored.starts_with(SEALED_TOTP_V1) {
        return Some(lazaret_store::LEGACY_KEY_ID);
    }
    stored.strip_prefix(SEALED_TOTP)?.split(':').next()
}

/// The TOTP key of a stored form; `None` when it cannot be opened (no or
/// another `template_key`, a row copied to another account).
fn open_totp(state: &AppState, user: &UserId, stored: &str) -> Option<String> {
    if totp_key_id(stored).is_none() {
        return Some(stored.to_owned());
    }
    let keys = TemplateKeys::from_config(&state.config).ok()?;
    open_totp_with(&keys, user.as_str(), stored)
}

/// Opens a sealed stored TOTP form with given keys.
pub(crate) fn open_totp_with(keys: &TemplateKeys, user: &str, stored: &str) -> Option<String> {
    let (key_id, nonce, ct) = if let Some(v1) = stored.strip_prefix(SEALED_TOTP_V1) {
        let (nonce, ct) = v1.split_once(':')?;
        (lazaret_store::LEGACY_KEY_ID, nonce, ct)
    } else {
        let mut parts = stored.strip_prefix(SEALED_TOTP)?.splitn(3, ':');
        (parts.next()?, parts.next()?, parts.next()?)
    };
    let plain = keys
        .open(
            key_id,
            &format!("totp:{user}"),
            &hex::decode(ct).ok()?,
            &hex::decode(nonce).ok()?,
        )
        .ok()?;
    String::from_utf8(plain).ok()
}

/// Enrols a new TOTP key for the account (replacing any earlier one) and
/// returns its `otpauth://` URI, which is shown once and never again.
pub async fn enroll_totp(
    state: &AppState,
    actor: &Actor,
    username: &str,
) -> Result<String, AccountError> {
    let user = account(state, username).await?;
    let mut key = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let secret = match totp_rs::Secret::Raw(key.to_vec()).to_encoded() {
        totp_rs::Secret::Encoded(s) => s.trim_end_matches('=').to_owned(),
        totp_rs::Secret::Raw(_) => unreachable!("to_encoded gives the encoded form"),
    };
    change(
        state,
        actor,
        &user,
        UserChange::Totp(seal_totp(state, &user.id, &secret)),
        "user.totp_enroll",
        String::new(),
    )
    .await?;
    Ok(format!(
        "otpauth://totp/Lazaret:{name}?secret={secret}&issuer=Lazaret&algorithm=SHA1&digits=6&period=30",
        name = user.username
    ))
}

/// When a token made now for `days` days expires.
fn expiry(
    state: &AppState,
    now: DateTime<Utc>,
    days: Option<u32>,
) -> Result<DateTime<Utc>, AccountError> {
    let days = days.unwrap_or(state.config.auth.token_days);
    let max = crate::config::MAX_TOKEN_DAYS;
    if !(1..=max).contains(&days) {
        return Err(ValidationError::new("expires_days", format!("must be 1 to {max}")).into());
    }
    Ok(now + Duration::days(days.into()))
}

/// A token of the account `username`: it acts with the account's role and
/// districts as they are when it is used, and stops with the account.
pub async fn create_account_token(
    state: &AppState,
    actor: &Actor,
    username: &str,
    expires_days: Option<u32>,
) -> Result<(TokenRecord, String), AccountError> {
    let user = account(state, username).await?;
    if user.disabled_at.is_some() {
        return Err(AccountError::Disabled(username.to_owned()));
    }
    let now = state.now();
    let expires_at = expiry(state, now, expires_days)?;
    let label = format!("user:{}", user.username);
    Ok(issue_token(
        &state.store,
        NewToken {
            role: user.role,
            districts: &user.districts,
            label: &label,
            user: Some(&user.id),
            expires_at: Some(expires_at),
        },
        actor.name(),
        now,
    )
    .await?)
}

/// A token of a named service (an integration, not a person).
pub async fn create_service_token(
    state: &AppState,
    actor: &Actor,
    name: &str,
    role: Role,
    districts: &DistrictScope,
    expires_days: Option<u32>,
) -> Result<(TokenRecord, String), AccountError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ValidationError::new("service", "must be 1 to 100 characters").into());
    }
    let now = state.now();
    let expires_at = expiry(state, now, expires_days)?;
    Ok(issue_token(
        &state.store,
        NewToken {
            role,
            districts,
            label: &format!("service:{name}"),
            user: None,
            expires_at: Some(expires_at),
        },
        actor.name(),
        now,
    )
    .await?)
}

pub async fn list_tokens(state: &AppState) -> Result<Vec<TokenListing>, AccountError> {
    Ok(state.store.list_tokens().await?)
}

/// Revokes a token; `Ok(false)` when it was revoked already.
pub async fn revoke_token(state: &AppState, actor: &Actor, id: &str) -> Result<bool, AccountError> {
    let id = TokenId::parse(id)?;
    if state.store.get_token(&id).await?.is_none() {
        return Err(AccountError::NoSuchToken(id.to_string()));
    }
    let now = state.now();
    let audit = actor.audit(now, "token.revoke", "token", id.as_str(), String::new());
    Ok(state.store.revoke_token(&id, now, &audit).await?)
}

/// What a login form sends.
#[derive(Debug, Clone)]
pub struct LoginAttempt {
    pub username: String,
    pub password: String,
    /// The one-time code, when the account has a second factor.
    pub totp: Option<String>,
    /// The client address (from the connection).
    pub address: String,
}

/// A session just opened: the cookie value is given to the browser once.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub cookie: String,
    pub session: ConsoleSession,
}

/// An open console session: who, and until when.
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    /// Hex SHA-256 of the cookie value.
    pub id_hash: String,
    pub username: Username,
    pub role: Role,
    pub districts: DistrictScope,
    pub totp: bool,
    pub created_at: DateTime<Utc>,
    /// When it ends if no request comes before.
    pub idle_expires_at: DateTime<Utc>,
    /// When it ends whatever happens.
    pub expires_at: DateTime<Utc>,
    /// The token every state-changing form of this session carries.
    pub csrf: String,
    /// The console's language the officer chose (`en`, `ru`), if any.
    pub language: Option<String>,
}

impl ConsoleSession {
    /// The session's officer as the services take it (`user:<name>`).
    pub fn actor(&self) -> Actor {
        Actor::new(
            format!("user:{}", self.username),
            self.role,
            self.districts.clone(),
        )
    }
}

/// The CSRF token of the session whose cookie is `cookie`: derived from the
/// secret cookie (which scripts and other sites cannot read), so it needs
/// no storage and dies with the session.
pub fn session_csrf(cookie: &str) -> String {
    hex::encode(Sha256::digest(format!("lazaret-csrf\0{cookie}").as_bytes()))
}

fn open_session(
    session: &SessionRecord,
    user: &UserRecord,
    idle: Duration,
    cookie: &str,
) -> ConsoleSession {
    ConsoleSession {
        id_hash: session.id_hash.clone(),
        username: user.username.clone(),
        role: user.role,
        districts: user.districts.clone(),
        totp: user.totp_secret.is_some(),
        created_at: session.created_at,
        idle_expires_at: (session.last_seen_at + idle).min(session.expires_at),
        expires_at: session.expires_at,
        csrf: session_csrf(cookie),
        language: user.language.clone(),
    }
}

/// Bounds what a failed login writes to the audit log (a username field
/// may hold anything, even a mistyped password).
fn typed_name(raw: &str) -> String {
    raw.chars().take(64).collect()
}

/// Judges a login; on success opens a session. Every refusal is audited
/// (`auth.login_failed` with its reason) and counted against the client
/// address, and a wrong password or code against the account too.
pub async fn login(state: &AppState, attempt: LoginAttempt) -> Result<NewSession, LoginError> {
    // One attempt at a time per account and per address, so each reads the
    // failure counts the previous ones left (see `login_gate`).
    let _turn = state
        .logins
        .enter(&attempt.username, &attempt.address)
        .await;
    let cfg = &state.config.auth;
    let now = state.now();
    let window_start = now - cfg.address_window();
    let address_failures = state
        .store
        .login_failures_since(&attempt.address, window_start)
        .await?;
    let user = state.store.get_user_by_name(&attempt.username).await?;
    let fail = |failure: LoginFailure, user: Option<&UserRecord>| {
        let subject =
            user.map_or_else(|| typed_name(&attempt.username), |u| u.username.to_string());
        let audit = AuditRecord {
            at: now,
            actor: format!("client:{}", attempt.address),
            action: "auth.login_failed".into(),
            subject_type: "user".into(),
            subject_id: subject,
            details: format!("reason={failure}"),
        };
        let account = user.filter(|_| failure.counts_against_account()).map(|u| {
            (
                u.id.clone(),
                FailurePolicy {
                    max_failures: cfg.account_max_failures.into(),
                    lock_until: now + cfg.lockout(),
                },
            )
        });
        let store = state.store.clone();
        let address = attempt.address.clone();
        async move {
            let locked = store
                .record_login_failure(
                    &address,
                    account.as_ref().map(|(id, p)| (id, *p)),
                    now,
                    window_start,
                    &audit,
                )
                .await?;
            if locked {
                tracing::warn!(user = %audit.subject_id, "account locked after repeated failed logins");
            }
            tracing::info!(reason = %failure, address = %address, "login refused");
            Err::<NewSession, _>(if failure == LoginFailure::TotpNotEnrolled {
                LoginError::TotpNotEnrolled
            } else {
                LoginError::Refused(failure)
            })
        }
    };
    // Every refusal costs one password hash, as a real check does, so the
    // time of the answer says nothing about whether the name exists, is
    // disabled or locked, or the address is limited.
    let refused = if address_failures >= i64::from(cfg.address_max_failures) {
        Some(LoginFailure::AddressLimited)
    } else {
        match &user {
            None => Some(LoginFailure::UnknownUser),
            Some(u) if u.disabled_at.is_some() => Some(LoginFailure::Disabled),
            Some(u) if u.locked_until.is_some_and(|t| t > now) => Some(LoginFailure::Locked),
            Some(_) if attempt.password.len() > lazaret_core::account::MAX_PASSWORD_BYTES => {
                Some(LoginFailure::WrongPassword)
            }
            Some(_) => None,
        }
    };
    if let Some(failure) = refused {
        let typed: String = attempt
            .password
            .chars()
            .take(lazaret_core::account::MAX_PASSWORD_BYTES)
            .collect();
        password_matches(decoy_hash(), typed).await;
        return fail(failure, user.as_ref()).await;
    }
    let user = user.expect("an unknown name is refused above");
    if !password_matches(user.password_hash.clone(), attempt.password.clone()).await {
        return fail(LoginFailure::WrongPassword, Some(&user)).await;
    }
    match &user.totp_secret {
        Some(stored) => {
            let code = attempt.totp.as_deref().unwrap_or("");
            let Some(secret) = open_totp(state, &user.id, stored) else {
                tracing::error!(user = %user.username, "the stored TOTP key cannot be opened (template_key changed?)");
                return fail(LoginFailure::Totp, Some(&user)).await;
            };
            let Some(step) = totp_step(&secret, code, now) else {
                return fail(LoginFailure::Totp, Some(&user)).await;
            };
            // Each code works once: one seen on the wire cannot be replayed.
            if !state.store.claim_totp_step(&user.id, step).await? {
                return fail(LoginFailure::Totp, Some(&user)).await;
            }
        }
        None if cfg.requires_totp(user.role) => {
            return fail(LoginFailure::TotpNotEnrolled, Some(&user)).await;
        }
        None => {}
    }
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let cookie = hex::encode(raw);
    let session = SessionRecord {
        id_hash: hash_token(&cookie),
        user_id: user.id.clone(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + cfg.session_absolute(),
        ended_at: None,
    };
    let audit = AuditRecord {
        at: now,
        actor: format!("user:{}", user.username),
        action: "auth.login".into(),
        subject_type: "user".into(),
        subject_id: user.username.to_string(),
        details: format!(
            "address={} totp={}",
            attempt.address,
            user.totp_secret.is_some()
        ),
    };
    state.store.insert_session(&session, &audit).await?;
    let console = open_session(&session, &user, cfg.session_idle(), &cookie);
    Ok(NewSession {
        cookie,
        session: console,
    })
}

/// The open session of this cookie, its idle time restarted; `None` when
/// unknown, ended, idle too long, past its absolute end, or its account is
/// disabled.
pub async fn session(state: &AppState, cookie: &str) -> Result<Option<ConsoleSession>, StoreError> {
    let now = state.now();
    let idle = state.config.auth.session_idle();
    let id_hash = hash_token(cookie);
    let Some((s, user)) = state.store.get_session(&id_hash).await? else {
        return Ok(None);
    };
    if s.ended_at.is_some()
        || now >= s.expires_at
        || now >= s.last_seen_at + idle
        || user.disabled_at.is_some()
    {
        return Ok(None);
    }
    // The touch moves the idle deadline. Once a minute is enough, and it is
    // best effort: a page must not wait for SQLite's write lock, which a
    // long import holds for minutes (a missed touch only leaves the
    // deadline where the last one put it).
    let mut last_seen_at = s.last_seen_at;
    if now - s.last_seen_at >= TOUCH_EVERY {
        match tokio::time::timeout(TOUCH_WAIT, state.store.touch_session(&id_hash, now)).await {
            Ok(Ok(())) => last_seen_at = now,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "a console session's activity was not recorded")
            }
            Err(_) => tracing::debug!(
                "a console session's activity was not recorded: the database is busy"
            ),
        }
    }
    let touched = SessionRecord { last_seen_at, ..s };
    Ok(Some(open_session(&touched, &user, idle, cookie)))
}

/// How often a session's activity is written.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::minutes(1);

/// How long a request waits to write it.
const TOUCH_WAIT: std::time::Duration = std::time::Duration::from_millis(250);

/// Ends the session (logout).
pub async fn logout(state: &AppState, session: &ConsoleSession) -> Result<(), StoreError> {
    let now = state.now();
    let audit = session.actor().audit(
        now,
        "auth.logout",
        "user",
        session.username.as_str(),
        String::new(),
    );
    state
        .store
        .end_session(&session.id_hash, now, &audit)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totp_accepts_one_step_of_drift_and_no_more() {
        let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
        let t: DateTime<Utc> = "2026-03-10T09:00:00Z".parse().unwrap();
        let code = totp_code(secret, t).unwrap();
        assert_eq!(code.len(), 6);
        assert!(totp_matches(secret, &code, t));
        assert!(totp_matches(secret, &code, t + Duration::seconds(30)));
        assert!(totp_matches(secret, &code, t - Duration::seconds(30)));
        assert!(!totp_matches(secret, &code, t + Duration::seconds(90)));
        assert!(!totp_matches(secret, "", t));
        assert!(!totp_matches(secret, "12345a", t));
    }

    #[tokio::test]
    async fn passwords_hash_with_argon2id_at_owasp_parameters() {
        let h = hash_password("correct horse battery").await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(password_matches(h.clone(), "correct horse battery".into()).await);
        assert!(!password_matches(h, "correct horse battery!".into()).await);
        let e = hash_password("too short").await.unwrap_err();
        assert!(e.to_string().contains("at least 12 characters"), "{e}");
    }
}
