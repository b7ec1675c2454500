//! Ways to reach a person: phone, e-mail, preferred language.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::ValidationError;

/// A phone number in E.164 form (`+` and 8 to 15 digits). Spaces, dashes,
/// dots and parentheses are accepted on input and dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let trimmed = raw.trim();
        let Some(rest) = trimmed.strip_prefix('+') else {
            return Err(ValidationError::new(
                "phone",
                "must be in international form starting with '+', e.g. +41 44 123 45 67",
            ));
        };
        let mut digits = String::with_capacity(rest.len() + 1);
        digits.push('+');
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => {
                    return Err(ValidationError::new(
                        "phone",
                        format!("contains {c:?}; only digits and separators are allowed"),
                    ))
                }
            }
        }
        let n = digits.len() - 1;
        if !(8..=15).contains(&n) {
            return Err(ValidationError::new(
                "phone",
                format!("has {n} digits; an international number has 8 to 15"),
            ));
        }
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Phone {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An e-mail address, checked for shape only (one `@`, a dotted domain, no
/// spaces); deliverability is the mail server's business.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim();
        let invalid = |reason: &str| Err(ValidationError::new("email", reason.to_owned()));
        if s.len() > 254 {
            return invalid("is longer than 254 characters");
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return invalid("must not contain spaces");
        }
        let Some((local, domain)) = s.split_once('@') else {
            return invalid("must contain '@'");
        };
        if local.is_empty() || domain.contains('@') {
            return invalid("must have exactly one '@' with a name before it");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 || labels.iter().any(|l| l.is_empty() || l.starts_with('-')) {
            return invalid("must have a domain like example.org after '@'");
        }
        Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Preferred language for messages, as a lowercase ISO 639-1 code (`en`, `ru`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Language(String);

impl Language {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim().to_ascii_lowercase();
        if s.len() == 2 && s.chars().all(|c| c.is_ascii_lowercase()) {
            Ok(Self(s))
        } else {
            Err(ValidationError::new(
                "language",
                "must be a two-letter ISO 639-1 code such as en or ru",
            ))
        }
    }

    pub fn english() -> Self {
        Self("en".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Language {
    fn default() -> Self {
        Self::english()
    }
}

impl TryFrom<String> for Language {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Language> for String {
    fn from(l: Language) -> String {
        l.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_normalises_separators() {
        assert_eq!(
            Phone::parse("+41 (44) 123-45.67").unwrap().as_str(),
            "+41441234567"
        );
    }

    #[test]
    fn phone_rejects_bad_numbers() {
        assert!(Phone::parse("0441234567").is_err());
        assert!(Phone::parse("+12").is_err());
        assert!(Phone::parse("+41 44 abc").is_err());
        assert!(Phone::parse("+1234567890123456").is_err());
    }

    #[test]
    fn email_shapes() {
        assert_eq!(
            Email::parse("Ana@Example.ORG").unwrap().as_str(),
            "Ana@example.org"
        );
        for bad in [
            "ana",
            "@example.org",
            "ana@example",
            "a@b@c.org",
            "ana @x.org",
            "a@.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn language_codes() {
        assert_eq!(Language::parse("RU").unwrap().as_str(), "ru");
        assert!(Language::parse("rus").is_err());
        assert!(Language::parse("e1").is_err());
    }
}
