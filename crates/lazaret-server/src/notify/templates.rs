//! Message texts per kind and language, with `{placeholder}` substitution.
//!
//! The texts themselves live with each language's page texts
//! (`pages/i18n/<code>.rs`, a [`Messages`] each). A new kind of message is
//! one `MessageKind` variant, one [`Messages`] field and its template in
//! every language (the compiler asks for each). A person whose language has
//! no texts reads English.

use lazaret_core::challenge::HeadPose;

use crate::pages::Lang;

/// What a message is for; stored in the outbox as [`MessageKind::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// A check-in prompt: link with the prompt token, deadline, challenge.
    CheckinPrompt,
    /// Today's symptom form: link with the form token, valid until the end
    /// of the local day.
    SymptomForm,
    /// A self-enrolment link: the person sends their own reference photo.
    EnrollmentLink,
    /// A notify-tier contact: possibly exposed on `{date}`, no quarantine,
    /// watch for symptoms until `{until}`, call `{contact_phone}`.
    ExposureNotice,
    /// A close contact's order was issued: `{address}`, `{starts}`–`{ends}`.
    OrderIssued,
    /// The order now ends `{ends}`.
    OrderExtended,
    /// The order ended on `{date}`: no more staying at home or check-ins.
    OrderReleased,
}

impl MessageKind {
    pub const ALL: [MessageKind; 7] = [
        MessageKind::CheckinPrompt,
        MessageKind::SymptomForm,
        MessageKind::EnrollmentLink,
        MessageKind::ExposureNotice,
        MessageKind::OrderIssued,
        MessageKind::OrderExtended,
        MessageKind::OrderReleased,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            MessageKind::CheckinPrompt => "checkin_prompt",
            MessageKind::SymptomForm => "symptom_form",
            MessageKind::EnrollmentLink => "enrollment_link",
            MessageKind::ExposureNotice => "exposure_notice",
            MessageKind::OrderIssued => "order_issued",
            MessageKind::OrderExtended => "order_extended",
            MessageKind::OrderReleased => "order_released",
        }
    }
}

/// The texts of one kind in one language. The e-mail has a subject and a
/// longer body; the SMS is short.
#[derive(Debug)]
pub struct Template {
    pub language: &'static str,
    pub subject: &'static str,
    pub email: &'static str,
    pub sms: &'static str,
}

/// One language's template of every kind (its `pages/i18n/<code>.rs`).
#[derive(Debug)]
pub struct Messages {
    pub checkin_prompt: Template,
    pub symptom_form: Template,
    pub enrollment_link: Template,
    pub exposure_notice: Template,
    pub order_issued: Template,
    pub order_extended: Template,
    pub order_released: Template,
}

impl Messages {
    pub fn get(&self, kind: MessageKind) -> &Template {
        match kind {
            MessageKind::CheckinPrompt => &self.checkin_prompt,
            MessageKind::SymptomForm => &self.symptom_form,
            MessageKind::EnrollmentLink => &self.enrollment_link,
            MessageKind::ExposureNotice => &self.exposure_notice,
            MessageKind::OrderIssued => &self.order_issued,
            MessageKind::OrderExtended => &self.order_extended,
            MessageKind::OrderReleased => &self.order_released,
        }
    }
}

/// The person's language for their messages: theirs when it is written,
/// else English.
fn lang_of(language: &str) -> Lang {
    Lang::parse(language).unwrap_or(Lang::En)
}

/// The template of `kind` in `language`, English when there is none.
pub fn template(kind: MessageKind, language: &str) -> &'static Template {
    lang_of(language).pack().messages.get(kind)
}

/// A template variable. Secret ones (the link with its token) are left out
/// of the redacted copy kept after sending.
#[derive(Debug, Clone)]
pub struct Var {
    pub name: &'static str,
    pub value: String,
    pub secret: bool,
}

impl Var {
    pub fn plain(name: &'static str, value: impl Into<String>) -> Self {
        Self {
            name,
            value: value.into(),
            secret: false,
        }
    }

    pub fn secret(name: &'static str, value: impl Into<String>) -> Self {
        Self {
            name,
            value: value.into(),
            secret: true,
        }
    }
}

/// Replaces each `{name}` with its value; with `redact`, secret values
/// become a marker instead.
pub fn render(text: &str, vars: &[Var], redact: bool) -> String {
    let mut out = text.to_owned();
    for v in vars {
        let value = if redact && v.secret {
            "[removed]"
        } else {
            v.value.as_str()
        };
        out = out.replace(&format!("{{{}}}", v.name), value);
    }
    out
}

/// The liveness challenge as words in `language` (the check-in page's
/// own `js.pose_…` texts, so message and page say the same).
pub fn challenge_words(poses: Option<&[HeadPose]>, language: &str) -> String {
    let lang = lang_of(language);
    let text = |key: &str| lang.text(key).unwrap_or_default();
    let Some(poses) = poses else {
        return text("js.pose_single").to_owned();
    };
    let words: Vec<&str> = poses
        .iter()
        .map(|p| match p {
            HeadPose::Center => text("js.pose_center"),
            HeadPose::Left => text("js.pose_left"),
            HeadPose::Right => text("js.pose_right"),
        })
        .collect();
    words.join(text("js.then"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value for every placeholder any template names.
    fn vars() -> Vec<Var> {
        vec![
            Var::plain("name", "Boris Orlov"),
            Var::secret("link", "https://lazaret.example/checkin#token=lzp_abc"),
            Var::plain("deadline", "2026-03-10 14:20 Europe/Zurich"),
            Var::plain("expires", "2026-03-11 00:00 Europe/Zurich"),
            Var::plain(
                "challenge",
                challenge_words(
                    Some(&[HeadPose::Center, HeadPose::Left, HeadPose::Right]),
                    "ru",
                ),
            ),
            Var::plain("date", "2026-03-02"),
            Var::plain("until", "2026-03-16"),
            Var::plain("contact_phone", "+41 44 000 11 22"),
            Var::plain("address", "Seestrasse 1, 8002 Zurich"),
            Var::plain("starts", "2026-03-03 09:00 Europe/Zurich"),
            Var::plain("ends", "2026-03-13 00:00 Europe/Zurich"),
        ]
    }

    fn holes(s: &str) -> std::collections::BTreeSet<String> {
        s.split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(h, _)| h.to_owned()))
            .collect()
    }

    /// Every kind in every language: each text non-empty, every
    /// placeholder filled, and the same placeholders as English's (a
    /// translation that drops `{contact_phone}` fails here).
    #[test]
    fn every_language_renders_every_placeholder_of_every_kind() {
        for lang in Lang::ALL {
            let code = lang.code();
            for kind in MessageKind::ALL {
                let t = template(kind, code);
                let en = template(kind, "en");
                assert_eq!(t.language, code);
                for (text, english) in [
                    (t.subject, en.subject),
                    (t.email, en.email),
                    (t.sms, en.sms),
                ] {
                    assert!(!text.trim().is_empty(), "{kind:?} {code}");
                    assert_eq!(holes(text), holes(english), "{kind:?} {code}: {text}");
                    if lang != Lang::En {
                        assert_ne!(text, english, "{kind:?} {code} is not translated");
                    }
                    let out = render(text, &vars(), false);
                    assert!(!out.contains('{') && !out.contains('}'), "{code}: {out}");
                }
                assert!(holes(t.email).contains("name"), "{kind:?} {code}");
            }
            // Links and the contact number reach the person in every language.
            for kind in [
                MessageKind::CheckinPrompt,
                MessageKind::SymptomForm,
                MessageKind::EnrollmentLink,
            ] {
                let sms = render(template(kind, code).sms, &vars(), false);
                assert!(sms.contains("lzp_abc"), "{kind:?} {code}: {sms}");
            }
            for kind in [
                MessageKind::ExposureNotice,
                MessageKind::OrderIssued,
                MessageKind::OrderExtended,
                MessageKind::OrderReleased,
            ] {
                let t = template(kind, code);
                for text in [t.email, t.sms] {
                    let out = render(text, &vars(), false);
                    assert!(out.contains("+41 44 000 11 22"), "{kind:?} {code}: {out}");
                }
            }
            let issued = render(template(MessageKind::OrderIssued, code).sms, &vars(), false);
            assert!(issued.contains("Seestrasse 1") && issued.contains("2026-03-13"));
            let t = template(MessageKind::CheckinPrompt, code);
            let body = render(t.email, &vars(), false);
            assert!(body.contains("lzp_abc") && body.contains("14:20"), "{body}");
            assert!(body.contains("Boris Orlov"));
        }
        let ru = render(
            template(MessageKind::CheckinPrompt, "ru").email,
            &vars(),
            false,
        );
        assert!(ru.contains("Ответьте до") && ru.contains("повернуть голову влево"));
    }

    #[test]
    fn unknown_languages_fall_back_to_english() {
        assert_eq!(template(MessageKind::CheckinPrompt, "fr").language, "en");
        assert_eq!(template(MessageKind::OrderReleased, "de").language, "de");
    }

    #[test]
    fn redaction_removes_only_secret_values() {
        let t = template(MessageKind::CheckinPrompt, "en");
        let out = render(t.email, &vars(), true);
        assert!(!out.contains("lzp_abc"), "{out}");
        assert!(out.contains("[removed]") && out.contains("Boris Orlov"));
    }

    #[test]
    fn challenge_in_words() {
        let poses = [HeadPose::Center, HeadPose::Right, HeadPose::Left];
        assert_eq!(
            challenge_words(Some(&poses), "en"),
            "look straight at the camera, then turn your head to your right, then turn your head to your left"
        );
        assert!(challenge_words(None, "ru").contains("одно фото"));
        assert_eq!(
            challenge_words(Some(&poses[..2]), "zh"),
            "正视摄像头，然后把头转向您的右边"
        );
        assert!(challenge_words(Some(&poses), "fr").starts_with("look straight"));
    }
}
