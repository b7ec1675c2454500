//! Fills a page into the layout in one language: `{{key}}` becomes the
//! HTML-escaped text of `key`, a few keys are structural (`body`, `lang`,
//! `dir`, `page`, `title`, `switch`, `footer`, `msgs`).

use super::i18n::Lang;
use super::Page;

const LAYOUT: &str = include_str!("assets/layout.html");

/// The page in `lang`, or the first placeholder without a text.
pub fn render(page: Page, lang: Lang) -> Result<String, String> {
    let html = LAYOUT.replacen("{{body}}", page.body(), 1);
    let mut out = String::with_capacity(html.len() + 4096);
    let mut rest = html.as_str();
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("unclosed placeholder in {}", page.name()))?;
        let key = &after[..end];
        match key {
            "lang" => out.push_str(lang.code()),
            "dir" => out.push_str(lang.dir().as_str()),
            "footer" => footer_into(&mut out, page, lang)?,
            "page" => out.push_str(page.name()),
            "title" => escape_into(&mut out, text(lang, page.title_key())?),
            "switch" => switch_into(&mut out, lang),
            "msgs" => out.push_str(&script_messages(page, lang)),
            key => escape_into(&mut out, text(lang, key)?),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn text(lang: Lang, key: &str) -> Result<&'static str, String> {
    lang.text(key)
        .ok_or_else(|| format!("no text for {key:?} in {}", lang.code()))
}

fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Links to the same page in each language; the script adds the fragment.
fn switch_into(out: &mut String, current: Lang) {
    for l in Lang::ALL {
        let code = l.code();
        let cur = if l == current {
            " aria-current=\"true\""
        } else {
            ""
        };
        out.push_str(&format!(
            "<a href=\"?lang={code}\" hreflang=\"{code}\" lang=\"{code}\"{cur}>{}</a>",
            l.name()
        ));
    }
}

/// The link to the person's own data (`/my-data`; the script adds the
/// fragment with the token), on every page but that one.
fn footer_into(out: &mut String, page: Page, lang: Lang) -> Result<(), String> {
    if page == Page::MyData {
        return Ok(());
    }
    out.push_str("<footer><a id=\"my-data-link\" href=\"/my-data\">");
    escape_into(out, text(lang, "my_data_link")?);
    out.push_str("</a></footer>");
    Ok(())
}

/// Script texts only one page uses, by key prefix.
const PAGE_ONLY: &[(&str, Page)] = &[
    ("js.sym_", Page::Symptoms),
    ("js.enr_", Page::Enroll),
    ("js.out.", Page::Checkin),
    ("js.pose_", Page::Checkin),
    ("js.now_", Page::Checkin),
    ("js.location_", Page::Checkin),
    ("js.token_", Page::Checkin),
    ("js.no_tries", Page::Checkin),
    ("js.countdown", Page::Checkin),
    ("js.captured", Page::Checkin),
    ("js.deadline", Page::Checkin),
    ("js.tries_left", Page::Checkin),
    ("js.steps", Page::Checkin),
    ("js.then", Page::Checkin),
    ("js.retry", Page::Checkin),
    ("js.asking", Page::Checkin),
    ("js.not_enrolled", Page::Checkin),
    ("js.invalid_image", Page::Checkin),
    ("js.md_", Page::MyData),
];

/// Page texts a page's script also needs, by key prefix (the my-data page
/// names the symptoms as the form does).
const SCRIPT_ALSO: &[(&str, Page)] = &[("sym_", Page::MyData)];

fn for_page(key: &str, page: Page) -> bool {
    (key.starts_with("js.")
        && PAGE_ONLY
            .iter()
            .all(|(prefix, p)| *p == page || !key.starts_with(prefix)))
        || SCRIPT_ALSO
            .iter()
            .any(|(prefix, p)| *p == page && key.starts_with(prefix))
}

/// The page's `js.` texts as a JSON data block (not executed, so the CSP
/// allows it); `<` is escaped so no text can end the element.
fn script_messages(page: Page, lang: Lang) -> String {
    let map: serde_json::Map<String, serde_json::Value> = lang
        .pack()
        .texts
        .iter()
        .filter(|t| for_page(t.0, page))
        .map(|t| (t.0.to_owned(), serde_json::Value::from(t.1)))
        .collect();
    serde_json::Value::Object(map)
        .to_string()
        .replace('<', "\\u003c")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_renders_in_every_language() {
        for page in Page::ALL {
            for lang in Lang::ALL {
                let html = render(page, lang).unwrap();
                assert!(!html.contains("{{"), "{} {}", page.name(), lang.code());
                assert!(html.contains(&format!(
                    "<html lang=\"{}\" dir=\"{}\">",
                    lang.code(),
                    lang.dir().as_str()
                )));
                assert_eq!(html.contains("href=\"/my-data\""), page != Page::MyData);
                assert!(html.contains(&format!("/assets/{}.js", page.name())));
                let msgs = html
                    .split("<script type=\"application/json\" id=\"msgs\">")
                    .nth(1)
                    .and_then(|s| s.split("</script>").next())
                    .unwrap();
                let v: serde_json::Value = serde_json::from_str(msgs).unwrap();
                assert!(v["js.network"].is_string());
                assert_eq!(v["js.out.verified"].is_string(), page == Page::Checkin);
                assert_eq!(v["js.sym_thanks"].is_string(), page == Page::Symptoms);
                assert_eq!(v["js.md_none"].is_string(), page == Page::MyData);
                assert_eq!(v["sym_fever"].is_string(), page == Page::MyData);
            }
        }
        let ru = render(Page::Symptoms, Lang::Ru).unwrap();
        assert!(ru.contains("Как вы себя чувствуете сегодня?"), "{ru}");
        let ar = render(Page::Checkin, Lang::Ar).unwrap();
        assert!(ar.contains("<html lang=\"ar\" dir=\"rtl\">"), "{ar}");
        assert!(ar.contains("تسجيل الحضور"));
        let zh = render(Page::MyData, Lang::Zh).unwrap();
        assert!(zh.contains("<h1>我的数据</h1>"), "{zh}");
    }

    /// Every `'js.…'` key a script names (or key prefix it completes at run
    /// time) is among its page's texts, and the shared script's are on every page.
    #[test]
    fn scripts_find_their_texts() {
        let scripts = [
            (Page::Checkin, include_str!("assets/checkin.js")),
            (Page::Symptoms, include_str!("assets/symptoms.js")),
            (Page::Enroll, include_str!("assets/enroll.js")),
            (Page::MyData, include_str!("assets/my-data.js")),
        ];
        let common = include_str!("assets/common.js");
        for (page, script) in scripts {
            let msgs: serde_json::Value =
                serde_json::from_str(&script_messages(page, Lang::Ru)).unwrap();
            let msgs = msgs.as_object().unwrap();
            for source in [script, common] {
                for piece in source.split("'js.").skip(1) {
                    let key = format!("js.{}", piece.split('\'').next().unwrap());
                    let found = if key.ends_with('.') || key.ends_with('_') {
                        msgs.keys().any(|k| k.starts_with(&key))
                    } else {
                        msgs.contains_key(&key)
                    };
                    assert!(found, "{} uses {key}", page.name());
                }
            }
        }
    }

    #[test]
    fn texts_are_escaped() {
        let mut s = String::new();
        escape_into(&mut s, "<a href=\"x\">&'");
        assert_eq!(s, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
