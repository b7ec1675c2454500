//! The person's credential: the token of a link (a check-in prompt, a
//! symptom form, a self-enrolment link) is the only thing that says who is
//! answering. One lookup for all of them: the token is hashed (the store
//! keeps only the hash), looked up, and refused with the same errors
//! everywhere: missing or unknown (`invalid_token`), used, expired or
//! withdrawn, replaced. The check-in, symptom-report and self-enrolment
//! services, the person pages' language look-ups and the person's own data
//! (`services::my_data`) all use it.

use chrono::{DateTime, Duration, Utc};
use lazaret_core::checkin::{self, PromptStatus, Timing};
use lazaret_core::district::DistrictScope;
use lazaret_store::{EnrollmentLink, LinkStatus, PromptRecord, Store, SymptomForm};

use crate::prompting::hash_token;
use crate::services::ServiceError;
use crate::state::AppState;

/// Which kind of link a person's token came with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// A check-in prompt (`/checkin#token=…`).
    Prompt,
    /// A daily symptom form (`/symptoms#token=…`).
    SymptomForm,
    /// A self-enrolment link (`/enroll#token=…`).
    EnrollmentLink,
    /// Any of them, not yet told apart (`/my-data` takes each): a token
    /// none of their prefixes fits.
    Link,
}

impl Credential {
    /// The token's name in refusals ("unknown prompt token").
    pub fn noun(self) -> &'static str {
        match self {
            Self::Prompt => "prompt token",
            Self::SymptomForm => "symptom-form token",
            Self::EnrollmentLink => "enrolment token",
            Self::Link => "link token",
        }
    }

    /// The token's name with its article ("a prompt token is required").
    pub fn with_article(self) -> &'static str {
        match self {
            Self::Prompt => "a prompt token",
            Self::SymptomForm => "a symptom-form token",
            Self::EnrollmentLink => "an enrolment token",
            Self::Link => "a link token",
        }
    }

    /// Why a used link takes nothing more.
    pub fn used(self) -> &'static str {
        match self {
            Self::Prompt => "this prompt was already answered",
            Self::SymptomForm => "this symptom form was already answered",
            Self::EnrollmentLink => "a photo was already sent with this link",
            Self::Link => "this link was already used",
        }
    }
}

/// A token as the person sent it, hashed for the lookup; an empty one is
/// no credential.
#[derive(Debug, Clone)]
pub struct SubjectToken {
    credential: Credential,
    hash: String,
}

impl SubjectToken {
    /// The token from a request (surrounding blanks ignored).
    pub fn new(credential: Credential, token: &str) -> Result<Self, ServiceError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(ServiceError::TokenMissing(credential));
        }
        Ok(Self {
            credential,
            hash: hash_token(token),
        })
    }

    /// The token from a person's request, counted against its link's rate
    /// limit (`[limits] person_token_per_minute`).
    pub fn admitted(
        state: &AppState,
        credential: Credential,
        token: &str,
    ) -> Result<Self, ServiceError> {
        let token = Self::new(credential, token)?;
        state.guards.person_token.check(&token.hash)?;
        Ok(token)
    }

    /// What the store keeps of the token.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The refusal of a token that matches nothing.
    pub fn unknown(&self) -> ServiceError {
        ServiceError::TokenUnknown(self.credential)
    }

    /// The prompt of a prompt token, whatever its state.
    pub async fn prompt(&self, store: &Store) -> Result<PromptRecord, ServiceError> {
        debug_assert_eq!(self.credential, Credential::Prompt);
        store
            .prompt_by_token_hash(&self.hash)
            .await?
            .ok_or_else(|| self.unknown())
    }

    /// The form of a symptom-form token, whatever its state.
    pub async fn symptom_form(&self, store: &Store) -> Result<SymptomForm, ServiceError> {
        debug_assert_eq!(self.credential, Credential::SymptomForm);
        store
            .symptom_form_by_token_hash(&self.hash)
            .await?
            .ok_or_else(|| self.unknown())
    }

    /// The link of an enrolment token, whatever its state.
    pub async fn enrollment_link(&self, store: &Store) -> Result<EnrollmentLink, ServiceError> {
        debug_assert_eq!(self.credential, Credential::EnrollmentLink);
        store
            .enrollment_link_by_token_hash(&self.hash)
            .await?
            .ok_or_else(|| self.unknown())
    }
}

/// The stored language of the person a symptom-form or enrolment token
/// belongs to, for the page it opens: answered for a used or expired link
/// too, so that the page says so in that language; `en` when the order or
/// the person is gone. Only a missing or unknown token is refused.
pub async fn page_language(
    state: &AppState,
    credential: Credential,
    token: &str,
) -> Result<String, ServiceError> {
    let store = &state.store;
    let token = SubjectToken::admitted(state, credential, token)?;
    let order_id = match credential {
        Credential::SymptomForm => {
            let form = token.symptom_form(store).await?;
            match (form.order_id, form.follow_up_id) {
                (Some(o), _) => o,
                // A monitored contact's form: the follow-up names the person.
                (None, Some(f)) => {
                    let person = match store.get_follow_up(&f, &DistrictScope::All).await? {
                        Some(f) => store.get_person(&f.person_id).await?,
                        None => None,
                    };
                    return Ok(
                        person.map_or_else(|| "en".to_owned(), |p| p.language.as_str().to_owned())
                    );
                }
                (None, None) => return Err(token.unknown()),
            }
        }
        Credential::EnrollmentLink => token.enrollment_link(store).await?.order_id,
        Credential::Prompt => token.prompt(store).await?.order_id,
        Credential::Link => return Err(token.unknown()),
    };
    let person = match store.get_order(&order_id).await? {
        Some(o) => store.get_person(&o.person_id).await?,
        None => None,
    };
    Ok(person.map_or_else(|| "en".to_owned(), |p| p.language.as_str().to_owned()))
}

/// Whether the prompt still takes an answer at `now`, and how: on time, or
/// late inside the `late_grace` (recorded, not verified).
pub fn open_prompt(
    prompt: &PromptRecord,
    now: DateTime<Utc>,
    late_grace: Duration,
) -> Result<Timing, ServiceError> {
    if !prompt.status.is_open() {
        return Err(prompt_closed(prompt.status));
    }
    match checkin::timing(now, prompt.deadline, late_grace) {
        Timing::Expired => Err(ServiceError::WindowPassed),
        t => Ok(t),
    }
}

/// Why a closed prompt takes no answer.
pub fn prompt_closed(status: PromptStatus) -> ServiceError {
    match status {
        PromptStatus::Answered => ServiceError::TokenUsed(Credential::Prompt),
        PromptStatus::Cancelled => ServiceError::PromptCancelled,
        _ => ServiceError::PromptClosed,
    }
}

/// Whether the form still takes a report at `now`.
pub fn open_symptom_form(form: &SymptomForm, now: DateTime<Utc>) -> Result<(), ServiceError> {
    if form.used_at.is_some() {
        return Err(ServiceError::TokenUsed(Credential::SymptomForm));
    }
    if form.cancelled_at.is_some() {
        return Err(ServiceError::FormWithdrawn);
    }
    if form.expires_at <= now {
        return Err(ServiceError::FormDayOver);
    }
    Ok(())
}

/// Whether the link still takes a photo at `now`.
pub fn open_enrollment_link(link: &EnrollmentLink, now: DateTime<Utc>) -> Result<(), ServiceError> {
    match link.status {
        LinkStatus::Open if link.expires_at > now => Ok(()),
        LinkStatus::Open => Err(ServiceError::LinkExpired),
        LinkStatus::Revoked => Err(ServiceError::LinkRevoked),
        LinkStatus::Pending | LinkStatus::Approved | LinkStatus::Rejected => {
            Err(ServiceError::TokenUsed(Credential::EnrollmentLink))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_credential_as_before() {
        let missing = SubjectToken::new(Credential::SymptomForm, "  ").unwrap_err();
        assert_eq!(missing.to_string(), "a symptom-form token is required");
        let t = SubjectToken::new(Credential::EnrollmentLink, " lze_x ").unwrap();
        assert_eq!(
            t.hash(),
            hash_token("lze_x"),
            "blanks around the token are ignored"
        );
        assert_eq!(t.unknown().to_string(), "unknown enrolment token");
        assert_eq!(
            ServiceError::TokenMissing(Credential::Prompt).to_string(),
            "a prompt token is required"
        );
    }
}
