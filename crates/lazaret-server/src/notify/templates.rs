//! Message texts per kind and language, with `{placeholder}` substitution.
//!
//! A new kind of message is one `MessageKind` variant and one entry per
//! language in [`template`]. Languages without a text fall back to English.

use lazaret_core::challenge::HeadPose;

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
}

impl MessageKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            MessageKind::CheckinPrompt => "checkin_prompt",
            MessageKind::SymptomForm => "symptom_form",
            MessageKind::EnrollmentLink => "enrollment_link",
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

const CHECKIN_PROMPT_EN: Template = Template {
    language: "en",
    subject: "Check-in requested: please answer by {deadline}",
    email: "Hello {name},\n\n\
            please check in now: open the link below on your phone, allow the camera and \
            location, and follow the instructions.\n\n\
            {link}\n\n\
            Answer by {deadline}. The camera will ask you to: {challenge}.\n\n\
            The link works once and only for this check-in. If you cannot answer in time, \
            your health officer will contact you.\n",
    sms: "Check-in requested. Answer by {deadline}: {link} (camera: {challenge})",
};

const CHECKIN_PROMPT_RU: Template = Template {
    language: "ru",
    subject: "Запрос на отметку: ответьте до {deadline}",
    email: "Здравствуйте, {name}!\n\n\
            Пожалуйста, отметьтесь сейчас: откройте ссылку ниже на телефоне, разрешите \
            доступ к камере и местоположению и следуйте инструкциям.\n\n\
            {link}\n\n\
            Ответьте до {deadline}. Камера попросит вас: {challenge}.\n\n\
            Ссылка действует один раз и только для этой отметки. Если вы не успеете \
            ответить, с вами свяжется сотрудник службы здравоохранения.\n",
    sms: "Запрос на отметку. Ответьте до {deadline}: {link} (камера: {challenge})",
};

const SYMPTOM_FORM_EN: Template = Template {
    language: "en",
    subject: "Today's health check: how are you feeling?",
    email: "Hello {name},\n\n\
            please tell us how you feel today. The form takes under a minute:\n\n\
            {link}\n\n\
            It is open until {expires}. If you feel unwell, an investigator will contact \
            you. In an emergency, call your local emergency number.\n",
    sms: "How are you feeling today? Short health form, open until {expires}: {link}",
};

const SYMPTOM_FORM_RU: Template = Template {
    language: "ru",
    subject: "Ежедневный опрос: как вы себя чувствуете?",
    email: "Здравствуйте, {name}!\n\n\
            Пожалуйста, расскажите, как вы себя чувствуете сегодня. Опрос займёт меньше \
            минуты:\n\n\
            {link}\n\n\
            Он открыт до {expires}. Если вам нездоровится, с вами свяжется специалист. \
            В экстренном случае звоните в местную службу экстренной помощи.\n",
    sms: "Как вы себя чувствуете сегодня? Короткий опрос, открыт до {expires}: {link}",
};

const ENROLLMENT_LINK_EN: Template = Template {
    language: "en",
    subject: "Your quarantine check-ins: please send a photo of yourself",
    email: "Hello {name},\n\n\
            during your quarantine you will be asked to check in with your phone's camera. \
            To set this up, open the link below on your phone and take one photo of your \
            face, looking straight at the camera in good light.\n\n\
            {link}\n\n\
            The link works once, until {expires}. An officer looks at the photo before it \
            is used; it is deleted once they have decided.\n",
    sms: "Quarantine check-ins: send one photo of your face by {expires}: {link}",
};

const ENROLLMENT_LINK_RU: Template = Template {
    language: "ru",
    subject: "Отметки на карантине: пришлите, пожалуйста, своё фото",
    email: "Здравствуйте, {name}!\n\n\
            Во время карантина вас будут просить отмечаться с помощью камеры телефона. \
            Чтобы это настроить, откройте ссылку ниже на телефоне и сделайте одно фото \
            лица, глядя прямо в камеру при хорошем освещении.\n\n\
            {link}\n\n\
            Ссылка действует один раз, до {expires}. Сотрудник проверит фото перед \
            использованием; после его решения фото удаляется.\n",
    sms: "Отметки на карантине: пришлите одно фото лица до {expires}: {link}",
};

/// The template of `kind` in `language`, English when there is none.
pub fn template(kind: MessageKind, language: &str) -> &'static Template {
    match (kind, language) {
        (MessageKind::CheckinPrompt, "ru") => &CHECKIN_PROMPT_RU,
        (MessageKind::CheckinPrompt, _) => &CHECKIN_PROMPT_EN,
        (MessageKind::SymptomForm, "ru") => &SYMPTOM_FORM_RU,
        (MessageKind::SymptomForm, _) => &SYMPTOM_FORM_EN,
        (MessageKind::EnrollmentLink, "ru") => &ENROLLMENT_LINK_RU,
        (MessageKind::EnrollmentLink, _) => &ENROLLMENT_LINK_EN,
    }
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

/// The liveness challenge as words in `language`.
pub fn challenge_words(poses: Option<&[HeadPose]>, language: &str) -> String {
    let ru = language == "ru";
    let Some(poses) = poses else {
        return if ru {
            "сделать одно фото, глядя прямо в камеру"
        } else {
            "take one photo looking straight at the camera"
        }
        .to_owned();
    };
    let words: Vec<&str> = poses
        .iter()
        .map(|p| match (p, ru) {
            (HeadPose::Center, false) => "look straight at the camera",
            (HeadPose::Left, false) => "turn your head to your left",
            (HeadPose::Right, false) => "turn your head to your right",
            (HeadPose::Center, true) => "посмотреть прямо в камеру",
            (HeadPose::Left, true) => "повернуть голову влево",
            (HeadPose::Right, true) => "повернуть голову вправо",
        })
        .collect();
    words.join(if ru { ", затем " } else { ", then " })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        ]
    }

    #[test]
    fn both_languages_render_every_placeholder() {
        for lang in ["en", "ru"] {
            for kind in [
                MessageKind::CheckinPrompt,
                MessageKind::SymptomForm,
                MessageKind::EnrollmentLink,
            ] {
                let t = template(kind, lang);
                assert_eq!(t.language, lang);
                for text in [t.subject, t.email, t.sms] {
                    let out = render(text, &vars(), false);
                    assert!(!out.contains('{') && !out.contains('}'), "{lang}: {out}");
                }
                let sms = render(t.sms, &vars(), false);
                assert!(sms.contains("lzp_abc"), "{kind:?} {lang}: {sms}");
            }
            let t = template(MessageKind::CheckinPrompt, lang);
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
        assert_eq!(template(MessageKind::CheckinPrompt, "de").language, "en");
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
    }
}
