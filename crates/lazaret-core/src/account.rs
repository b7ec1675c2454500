//! Officer accounts: what a username and a password must be, and why a
//! login was refused (the audit log's reasons; the person at the door only
//! ever hears one generic answer).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

/// Shortest password accepted, in characters (OWASP ASVS 2.1.1).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted, in bytes: well above the 64 characters a
/// password manager may produce, low enough to bound the hashing work.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest username.
pub const MAX_USERNAME_CHARS: usize = 64;

/// An account's login name: lower-case letters, digits, `.`, `_` and `-`,
/// starting with a letter or digit. One spelling per person, so the audit
/// log's `user:<name>` is unambiguous.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let bad = |why: &str| Err(ValidationError::new("username", why));
        if raw.is_empty() || raw.chars().count() > MAX_USERNAME_CHARS {
            return bad("must be 1 to 64 characters");
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            return bad("may hold only lower-case letters a-z, digits, '.', '_' and '-'");
        }
        if !raw.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return bad("must start with a letter or a digit");
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Username {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Username> for String {
    fn from(u: Username) -> String {
        u.0
    }
}

/// Refuses a password shorter than [`MIN_PASSWORD_CHARS`] characters or
/// longer than [`MAX_PASSWORD_BYTES`] bytes. No composition rules (NIST
/// SP 800-63B): length is what counts.
pub fn check_password(password: &str) -> Result<(), ValidationError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ValidationError::new(
            "password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters long"),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(ValidationError::new(
            "password",
            format!("must be at most {MAX_PASSWORD_BYTES} bytes long"),
        ));
    }
    Ok(())
}

/// Why a login was refused, as the audit log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFailure {
    UnknownUser,
    WrongPassword,
    /// The account is locked after too many failures.
    Locked,
    Disabled,
    /// The one-time code was missing or wrong.
    Totp,
    /// The role requires a second factor and the account has none enrolled.
    TotpNotEnrolled,
    /// Too many failures from this client address.
    AddressLimited,
    /// The form's CSRF token was missing or wrong.
    Csrf,
}

impl LoginFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnknownUser => "unknown_user",
            Self::WrongPassword => "wrong_password",
            Self::Locked => "locked",
            Self::Disabled => "disabled",
            Self::Totp => "totp",
            Self::TotpNotEnrolled => "totp_not_enrolled",
            Self::AddressLimited => "address_limited",
            Self::Csrf => "csrf",
        }
    }

    /// Whether this failure counts towards the account's lockout: only a
    /// wrong secret does (a refusal of a locked or disabled account does
    /// not extend its lock).
    pub fn counts_against_account(self) -> bool {
        matches!(self, Self::WrongPassword | Self::Totp)
    }
}

impl fmt::Display for LoginFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["alice", "a.b-c_d", "7of9"] {
            assert_eq!(Username::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            "Alice",
            "al ice",
            "-x",
            "x/y",
            "user:x",
            &"a".repeat(65),
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn passwords_by_length_only() {
        let e = check_password("short pass!").unwrap_err();
        assert!(e.reason.contains("at least 12"), "{e}");
        assert!(check_password("twelve chars").is_ok());
        // Twelve characters, not bytes.
        assert!(check_password("пароль-пароль").is_ok());
        assert!(check_password(&"x".repeat(64)).is_ok());
        assert!(check_password(&"x".repeat(1024)).is_ok());
        assert!(check_password(&"x".repeat(1025)).is_err());
    }
}
