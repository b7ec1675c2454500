//! The person's languages and the console's texts.
//!
//! Each language the person reads is one module under `i18n/` holding one
//! [`Pack`]: its page texts and its message templates
//! (`notify::templates`), plus one line in [`languages!`] below. English is
//! the reference: a text or a message missing in another language is a test
//! failure, not a silent fallback (`docs/languages.md`).
//!
//! The officers' console is written in English and Russian only ([`TEXTS`],
//! keys `c.…`); [`Lang::CONSOLE`] lists them.

use crate::notify::templates::Messages;

/// Which way a language is written; `<html dir>` of its pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Ltr,
    Rtl,
}

impl Dir {
    pub fn as_str(self) -> &'static str {
        match self {
            Dir::Ltr => "ltr",
            Dir::Rtl => "rtl",
        }
    }
}

/// Everything the person reads in one language.
#[derive(Debug)]
pub struct Pack {
    /// ISO 639-1, as `lazaret_core::contact_info::Language` stores it.
    pub code: &'static str,
    /// The language's own name, for the switch.
    pub name: &'static str,
    pub dir: Dir,
    /// `(key, text)` of the pages.
    pub texts: &'static [(&'static str, &'static str)],
    /// The messages sent to the person.
    pub messages: Messages,
}

/// Declares the languages: `Variant module`, one line each. The module
/// `i18n/<module>.rs` holds `PACK`.
macro_rules! languages {
    ($($variant:ident $module:ident),+ $(,)?) => {
        $(mod $module;)+

        /// A language the person's pages and messages are written in.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Lang {
            $($variant),+
        }

        impl Lang {
            /// Every language, in the order the switch shows them.
            pub const ALL: [Lang; [$(stringify!($variant)),+].len()] = [$(Lang::$variant),+];

            /// The language's texts and messages.
            pub fn pack(self) -> &'static Pack {
                match self {
                    $(Lang::$variant => &$module::PACK),+
                }
            }
        }
    };
}

languages! {
    En en,
    Ru ru,
    Uk uk,
    Pl pl,
    De de,
    Zh zh,
    Ar ar,
}

impl Lang {
    /// The languages the officers' console is written in (`TEXTS`).
    pub const CONSOLE: [Lang; 2] = [Lang::En, Lang::Ru];

    pub fn code(self) -> &'static str {
        self.pack().code
    }

    /// The language's own name, for the switch.
    pub fn name(self) -> &'static str {
        self.pack().name
    }

    pub fn dir(self) -> Dir {
        self.pack().dir
    }

    pub fn parse(code: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|l| code.trim().eq_ignore_ascii_case(l.code()))
    }

    /// The page language: an explicit choice (`?lang=`) wins, then the best
    /// supported entry of `Accept-Language` by its q-value, then English.
    pub fn negotiate(choice: Option<&str>, accept_language: Option<&str>) -> Lang {
        Lang::negotiate_among(&Lang::ALL, choice, accept_language)
    }

    /// [`Lang::negotiate`] among `offered` only (the console's languages).
    pub fn negotiate_among(
        offered: &[Lang],
        choice: Option<&str>,
        accept_language: Option<&str>,
    ) -> Lang {
        let parse = |code: &str| Lang::parse(code).filter(|l| offered.contains(l));
        if let Some(l) = choice.and_then(parse) {
            return l;
        }
        let mut best: Option<(f32, Lang)> = None;
        for item in accept_language.unwrap_or("").split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let primary = tag.split('-').next().unwrap_or("");
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(l) = parse(primary) {
                // The first of equal weights wins, as the header lists them by preference.
                if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, l));
                }
            }
        }
        best.map_or(Lang::En, |(_, l)| l)
    }

    /// The text for `key`, or None when there is none: a page text of this
    /// language, or for a `c.…` key the console's (`TEXTS`; a language
    /// the console is not written in reads it in English, but the console
    /// only offers [`Lang::CONSOLE`]).
    pub fn text(self, key: &str) -> Option<&'static str> {
        if key.starts_with("c.") {
            return TEXTS
                .iter()
                .find(|t| t.0 == key)
                .map(|t| if self == Lang::Ru { t.2 } else { t.1 });
        }
        self.pack().texts.iter().find(|t| t.0 == key).map(|t| t.1)
    }
}

/// The console's texts: `(key, English, Russian)`.
pub const TEXTS: &[(&str, &str, &str)] = &[
    // The officers' console (`console/`), keys `c.…`.
    ("c.product", "Lazaret console", "Консоль Lazaret"),
    ("c.console", "Officer console", "Консоль сотрудника"),
    ("c.skip", "Skip to content", "К содержимому"),
    ("c.nav", "Main", "Главное меню"),
    ("c.nav.alerts", "Alerts", "Оповещения"),
    ("c.nav.account", "Account", "Учётная запись"),
    ("c.sign_in", "Sign in", "Вход"),
    ("c.sign_out", "Sign out", "Выйти"),
    ("c.login_lead", "For public-health officers with a Lazaret account.", "Для сотрудников здравоохранения с учётной записью Lazaret."),
    ("c.username", "Username", "Имя пользователя"),
    ("c.password", "Password", "Пароль"),
    ("c.password_hint", "At least 12 characters.", "Не менее 12 символов."),
    ("c.totp", "One-time code", "Одноразовый код"),
    ("c.totp_optional", "(only if your account has one)", "(только если он настроен для вашей учётной записи)"),
    ("c.totp_hint", "The six digits your authenticator app shows now.", "Шесть цифр, которые сейчас показывает приложение-аутентификатор."),
    ("c.login_note", "Several wrong attempts lock the account for a while. Every sign-in and every failed attempt is recorded in the audit log.", "После нескольких неудачных попыток учётная запись временно блокируется. Каждый вход и каждая неудачная попытка записываются в журнал аудита."),
    ("c.err.login_refused", "The username, password or code is not right, or signing in is paused for a while. Check them and try again later.", "Неверное имя пользователя, пароль или код, либо вход временно приостановлен. Проверьте данные и повторите попытку позже."),
    ("c.err.totp_not_enrolled", "Your role requires a second factor (a one-time code) and none is set up for your account. Ask an administrator to enrol one (lazaret users totp-enroll).", "Для вашей роли нужен второй фактор (одноразовый код), но он не настроен. Попросите администратора подключить его (lazaret users totp-enroll)."),
    ("c.err.login_csrf", "This sign-in form has expired or did not come from this site. Open the sign-in page again.", "Форма входа устарела или открыта не с этого сайта. Откройте страницу входа заново."),
    ("c.err.csrf", "This form did not come from your session. Reload the page and try again.", "Эта форма отправлена не из вашего сеанса. Обновите страницу и повторите."),
    ("c.err.logout", "Something went wrong on our side; you may still be signed in. Try again.", "На нашей стороне произошла ошибка; возможно, вы всё ещё в системе. Повторите попытку."),
    ("c.err.internal", "Something went wrong on our side. Try again in a moment.", "На нашей стороне произошла ошибка. Повторите попытку чуть позже."),
    ("c.err.title", "Sorry", "Ошибка"),
    ("c.err.rate_limited", "Too many requests from your account in a short time. Wait a minute, then try again.", "Слишком много запросов с вашей учётной записи за короткое время. Подождите минуту и повторите попытку."),
    ("c.err.not_found_title", "Not found", "Не найдено"),
    ("c.err.forbidden_title", "Not allowed", "Нет доступа"),
    ("c.err.alert_not_found", "There is no such alert among those you can see.", "Среди доступных вам оповещений такого нет."),
    ("c.err.role_alerts", "Your role does not work the alert queue.", "Ваша роль не работает с очередью оповещений."),
    ("c.err.bad_action", "Choose what to do with the selected alerts.", "Выберите действие для отмеченных оповещений."),
    ("c.back_to_alerts", "Back to the alerts", "К оповещениям"),
    ("c.back_to_login", "Back to sign in", "Ко входу"),
    ("c.signed_in_as", "Signed in as {name}", "Вы вошли как {name}"),
    ("c.role", "Role", "Роль"),
    ("c.role.admin", "Administrator", "Администратор"),
    ("c.role.investigator", "Investigator", "Эпидемиолог-расследователь"),
    ("c.role.compliance_officer", "Compliance officer", "Сотрудник по контролю карантина"),
    ("c.role.analyst", "Analyst", "Аналитик"),
    ("c.role.auditor", "Auditor", "Аудитор"),
    ("c.districts", "Districts", "Районы"),
    ("c.districts_all", "All districts (national)", "Все районы (национальный уровень)"),
    ("c.none", "None", "Нет"),
    ("c.second_factor", "Second factor", "Второй фактор"),
    ("c.totp_app", "Authenticator app (TOTP)", "Приложение-аутентификатор (TOTP)"),
    ("c.signed_in", "Signed in", "Вход выполнен"),
    ("c.session_ends", "Session ends", "Сеанс завершится"),
    ("c.if_idle", "if idle ({minutes} minutes without a request)", "при бездействии ({minutes} минут без запросов)"),
    ("c.at_the_latest", "at the latest", "не позднее"),
    ("c.language", "Language", "Язык"),
    ("c.language_label", "The console's language", "Язык консоли"),
    ("c.language_browser", "As my browser", "Как в браузере"),
    ("c.save", "Save", "Сохранить"),
    ("c.err.language", "Choose a language from the list.", "Выберите язык из списка."),
    ("c.api_title", "Working through the API", "Работа через API"),
    ("c.api_text", "A personal API token acts as you, with your role and districts, and stops when your account is disabled:", "Личный токен API действует от вашего имени, с вашей ролью и районами, и перестаёт работать, когда учётная запись отключена:"),
    ("c.audit_note", "Everything you do is recorded in the audit log as", "Все ваши действия записываются в журнал аудита как"),
    ("c.age_min", "{n} min", "{n} мин"),
    ("c.age_h", "{n} h", "{n} ч"),
    ("c.age_d", "{n} d", "{n} дн."),
    ("c.alerts", "Alerts", "Оповещения"),
    ("c.alert", "Alert", "Оповещение"),
    ("c.shortcuts", "Keys: j/k move · a assign to me · r resolve · x select · / filter", "Клавиши: j/k — переход · a — взять себе · r — закрыть · x — отметить · / — фильтр"),
    ("c.filters", "Filters", "Фильтры"),
    ("c.col.kind", "Kind", "Тип"),
    ("c.col.person", "Person", "Человек"),
    ("c.col.district", "District", "Район"),
    ("c.col.age", "Age", "Давность"),
    ("c.col.assignee", "Assignee", "Исполнитель"),
    ("c.col.status", "Status", "Статус"),
    ("c.col.actions", "Actions", "Действия"),
    ("c.any_kind", "Any kind", "Любой тип"),
    ("c.kind.missed_checkin", "Missed check-in", "Пропущена отметка"),
    ("c.kind.failed_checkin", "Failed check-in", "Отметка не пройдена"),
    ("c.kind.welfare_check", "Welfare check", "Проверить состояние"),
    ("c.kind.symptomatic", "Symptoms reported", "Сообщение о симптомах"),
    ("c.kind.cannot_prompt", "Cannot prompt", "Запрос невозможен"),
    ("c.kind.not_delivered", "Not delivered", "Не доставлено"),
    ("c.nav.overview", "Overview", "Обзор"),
    ("c.overview", "Today in your districts", "Сегодня в ваших районах"),
    ("c.overview_lead", "Counts for today (UTC) and what is open now. Each number opens the list behind it. As of", "Показатели за сегодня (UTC) и то, что открыто сейчас. Каждое число открывает список. По состоянию на"),
    ("c.overview_empty", "Nothing to count in your districts yet.", "В ваших районах пока нечего показать."),
    ("c.district", "District", "Район"),
    ("c.kind", "Kind", "Вид"),
    ("c.back_home", "Back to the start page", "На начальную страницу"),
    ("c.err.role_overview", "Your role has no overview of orders or counts.", "Вашей роли обзор предписаний и показателей недоступен."),
    ("c.nav.exports", "Exports", "Выгрузки"),
    ("c.exports", "Surveillance exports", "Выгрузки для эпиднадзора"),
    ("c.exports_lead", "Line lists for the surveillance system: the cases of a period and the contacts traced from them. They hold pseudonymous person ids, districts, dates, results, tiers, rules and follow-up statuses; no names, phone numbers, e-mail addresses, addresses or coordinates. Each export is recorded in the audit log.", "Списки для системы эпиднадзора: случаи за период и выявленные у них контакты. В них псевдонимные идентификаторы, районы, даты, результаты, уровни риска, правила и статусы наблюдения; без имён, телефонов, адресов электронной почты, адресов и координат. Каждая выгрузка записывается в журнал аудита."),
    ("c.export_what", "What to export", "Что выгрузить"),
    ("c.export_kind", "List", "Список"),
    ("c.export_cases", "Cases", "Случаи"),
    ("c.export_contacts", "Contacts of those cases", "Контакты этих случаев"),
    ("c.export_format", "Format", "Формат"),
    ("c.export_csv", "CSV (spreadsheet)", "CSV (таблица)"),
    ("c.export_fhir", "FHIR R4 Bundle (JSON)", "Пакет FHIR R4 (JSON)"),
    ("c.export_period", "Period", "Период"),
    ("c.export_period_hint", "Cases count by the laboratory's result time, else the sampling time (UTC); at most 366 days.", "Случаи учитываются по времени результата лаборатории, иначе по времени забора (UTC); не более 366 дней."),
    ("c.export_from", "First day", "Первый день"),
    ("c.export_to", "Last day (included)", "Последний день (включительно)"),
    ("c.download", "Download", "Скачать"),
    ("c.export_bad_date", "Give a date as YYYY-MM-DD.", "Укажите дату в виде ГГГГ-ММ-ДД."),
    ("c.export_to_before_from", "The last day cannot come before the first day.", "Последний день не может быть раньше первого."),
    ("c.export_too_long", "An export covers at most 366 days; split the period.", "Выгрузка охватывает не более 366 дней; разделите период."),
    ("c.export_not_yours", "This is not one of your districts.", "Это не ваш район."),
    ("c.export_bad_choice", "Choose one of the options.", "Выберите один из вариантов."),
    ("c.err.role_exports", "Your role does not export surveillance line lists.", "Ваша роль не выгружает списки для эпиднадзора."),
    ("c.err.role_what_if", "Your role does not run what-if simulations.", "Ваша роль не запускает моделирование «что если»."),
    ("c.nav.what_if", "What-if", "Что если"),
    ("c.what_if", "What-if: tracing rules compared", "Что если: сравнение правил отслеживания"),
    ("c.what_if_lead", "A simulated outbreak in a synthetic region of the size you give, traced by the same rules engine as your cases: what each rule set averts, per 1,000 days of quarantine it imposes, against isolating cases alone. It reads no personal data. The figures come from a model and its assumptions (docs/simulator.md): use them to compare rule sets, not to forecast.", "Смоделированная вспышка в синтетическом районе заданного размера, отслеживаемая тем же движком правил, что и ваши случаи: сколько заражений предотвращает каждый набор правил на 1000 дней карантина по сравнению с одной лишь изоляцией случаев. Персональные данные не читаются. Цифры получены из модели и её допущений (docs/simulator.md): используйте их для сравнения правил, а не для прогноза."),
    ("c.what_if_region", "The region", "Район"),
    ("c.what_if_population", "People", "Жители"),
    ("c.what_if_days", "Days", "Дни"),
    ("c.what_if_runs", "Runs per rule set", "Прогонов на набор правил"),
    ("c.what_if_r0", "R0 without measures", "R0 без мер"),
    ("c.what_if_bound", "At most {max} million person-days in all (people × days × runs × rule sets, isolation alone included): up to about 15 seconds.", "Не более {max} млн человеко-дней всего (жители × дни × прогоны × наборы правил, включая одну изоляцию): до 15 секунд."),
    ("c.what_if_variants", "Rule sets to compare", "Наборы правил для сравнения"),
    ("c.what_if_baseline", "Each is compared with isolating cases alone (no tracing), which always runs, on the same random seeds.", "Каждый сравнивается с одной лишь изоляцией случаев (без отслеживания), которая считается всегда, на тех же случайных числах."),
    ("c.what_if_run", "Run the simulation", "Запустить моделирование"),
    ("c.what_if_results", "Results", "Результаты"),
    ("c.what_if_took", "{runs} runs of {n} rule sets in {s} s.", "{runs} прогонов для {n} наборов правил за {s} с."),
    ("c.what_if_chart_title", "{people} people, {days} days, {runs} runs per rule set", "{people} жителей, {days} дней, {runs} прогонов на набор правил"),
    ("c.what_if_reading", "Medians of the runs, with the range of 95% of them in brackets. \"Averted per 1,000 quarantine days\" is what a rule set buys for what it costs the people it quarantines.", "Медианы прогонов, в скобках — диапазон 95% из них. «Предотвращено на 1000 дней карантина» — что набор правил даёт в обмен на то, чего он стоит людям на карантине."),
    ("c.what_if.v.isolation", "Isolation of cases only", "Только изоляция случаев"),
    ("c.what_if.v.in_force", "Rules in force", "Действующие правила"),
    ("c.what_if.v.household_only", "Household only", "Только домохозяйство"),
    ("c.what_if.v.whole_building", "Whole building quarantined", "Карантин всего дома"),
    ("c.what_if.v.ten_days", "Quarantine of 10 days", "Карантин 10 дней"),
    ("c.what_if.v.deeper_interviews", "Interviews reach half of other contacts", "Опрос выявляет половину прочих контактов"),
    ("c.what_if.col.rules", "Rule set", "Набор правил"),
    ("c.what_if.col.infections", "Infections", "Заражения"),
    ("c.what_if.col.reduction", "Fewer than isolation alone", "Меньше, чем при одной изоляции"),
    ("c.what_if.col.qdays", "Quarantine person-days", "Человеко-дни карантина"),
    ("c.what_if.col.per_qdays", "Averted per 1,000 quarantine days", "Предотвращено на 1000 дней карантина"),
    ("c.what_if.col.q_infected", "Quarantined who were infected", "Доля заражённых среди помещённых на карантин"),
    ("c.what_if.col.peak_checkins", "Peak check-ins a day", "Пик отметок в день"),
    ("c.what_if.col.peak_alerts", "Peak alerts a day", "Пик оповещений в день"),
    ("c.what_if_bad.population", "People: a whole number from 1,000 to 50,000.", "Жители: целое число от 1000 до 50 000."),
    ("c.what_if_bad.days", "Days: a whole number from 30 to 120.", "Дни: целое число от 30 до 120."),
    ("c.what_if_bad.runs", "Runs: 1 to 40, and at most 60 million person-days in all; ask for fewer runs or people.", "Прогоны: от 1 до 40 и не более 60 млн человеко-дней всего; уменьшите число прогонов или жителей."),
    ("c.what_if_bad.r0", "R0: a number from 0.5 to 5.", "R0: число от 0,5 до 5."),
    ("c.what_if_bad.variants", "Choose at least one of the rule sets below.", "Выберите хотя бы один набор правил ниже."),
    ("c.what_if_bad.busy", "Another what-if simulation is running; try again in half a minute.", "Уже идёт другое моделирование; попробуйте через полминуты."),
    ("c.ov.orders_active", "orders in force", "действующих предписаний"),
    ("c.ov.contacts_in_quarantine", "of them contacts of a case", "из них — контакты заболевших"),
    ("c.ov.today_prompts", "Check-in prompts today", "Запросы отметки сегодня"),
    ("c.ov.prompts_issued", "sent", "отправлено"),
    ("c.ov.prompts_answered", "answered", "с ответом"),
    ("c.ov.prompts_missed", "missed", "пропущено"),
    ("c.ov.prompts_not_delivered", "not delivered", "не доставлено"),
    ("c.ov.checkins_verified", "check-ins verified", "отметок подтверждено"),
    ("c.ov.cases", "Cases", "Случаи"),
    ("c.ov.cases_new", "new cases (positive tests sampled today)", "новых случаев (положительные пробы за сегодня)"),
    ("c.ov.cases_on_list", "of them already on a contact list", "из них уже были в списке контактов"),
    ("c.ov.cases_untraced", "positive tests of the last 14 days not yet traced", "положительных тестов за 14 дней ещё не отслежены"),
    ("c.ov.open_alerts", "Open alerts by waiting time", "Открытые оповещения по времени ожидания"),
    ("c.ov.no_open_alerts", "No open alerts.", "Открытых оповещений нет."),
    ("c.ov.under_1h", "< 1 h", "< 1 ч"),
    ("c.ov.under_24h", "1–24 h", "1–24 ч"),
    ("c.ov.older", "≥ 1 day", "≥ 1 сут."),
    ("c.ov.total", "Total", "Всего"),
    ("c.ind.title", "Tracing, last 7 days", "Отслеживание за 7 дней"),
    ("c.ind.lead", "Each figure is defined in docs/indicators.md; a dash: nothing to compute it from.", "Определения — в docs/indicators.md; прочерк: не из чего считать."),
    ("c.ind.new_cases", "New cases", "Новые случаи"),
    ("c.ind.new_cases_already_contacts", "New cases already listed as contacts", "Новые случаи, уже бывшие в списках контактов"),
    ("c.ind.contacts_per_case_mean", "Contacts per case (mean)", "Контактов на случай (среднее)"),
    ("c.ind.contacts_per_case_median", "Contacts per case (median)", "Контактов на случай (медиана)"),
    ("c.ind.contacts_reached_within_24h", "Contacts reached within 24 h of the report", "Контакты, с которыми связались за 24 ч после сообщения"),
    ("c.ind.median_hours_result_to_interview", "Result → interview (median)", "Результат → опрос (медиана)"),
    ("c.ind.median_hours_result_to_contact_notified", "Result → contacts notified (median)", "Результат → контакты уведомлены (медиана)"),
    ("c.ind.median_hours_result_to_order_issued", "Result → order issued (median)", "Результат → предписание выдано (медиана)"),
    ("c.ind.contact_days_followed_up", "Contact days followed up", "Дни контактов с наблюдением"),
    ("c.ind.checkin_compliance", "Check-ins answered", "Отмеченные проверки"),
    ("c.ind.alert_backlog_under_24h", "Open alerts under 24 h old", "Открытые сигналы моложе 24 ч"),
    ("c.ind.alert_backlog_1_to_3_days", "Open alerts 1–3 days old", "Открытые сигналы 1–3 сут."),
    ("c.ind.alert_backlog_over_3_days", "Open alerts over 3 days old", "Открытые сигналы старше 3 сут."),
    ("c.ind.message_delivery_failures", "Messages not delivered", "Недоставленные сообщения"),
    ("c.ind.messages", "Messages sent to persons", "Сообщения людям"),
    ("c.status.unresolved", "Open or assigned", "Открытые и назначенные"),
    ("c.status.open", "Open", "Открыто"),
    ("c.status.assigned", "Assigned", "Назначено"),
    ("c.status.resolved", "Resolved", "Закрыто"),
    ("c.anyone", "Anyone", "Любой"),
    ("c.me", "Me", "Я"),
    ("c.unassigned", "Unassigned", "Без исполнителя"),
    ("c.all_mine", "All my districts", "Все мои районы"),
    ("c.sort", "Sort", "Порядок"),
    ("c.oldest_first", "Oldest first", "Сначала старые"),
    ("c.newest_first", "Newest first", "Сначала новые"),
    ("c.apply", "Apply", "Применить"),
    ("c.reset_filters", "Reset filters", "Сбросить фильтры"),
    ("c.no_alerts", "No alerts match these filters.", "Нет оповещений по этим фильтрам."),
    ("c.outcome", "Outcome", "Итог"),
    ("c.choose", "Choose…", "Выберите…"),
    ("c.note", "Note", "Примечание"),
    ("c.note_hint", "(required for “other”)", "(обязательно для «другое»)"),
    ("c.resolve_selected", "Resolve selected", "Закрыть отмеченные"),
    ("c.n_selected", "{n} selected", "Отмечено: {n}"),
    ("c.assign_selected", "Assign selected to me", "Взять отмеченные себе"),
    ("c.select_all", "Select all alerts on this page", "Отметить все оповещения на странице"),
    ("c.select_alert", "Select {kind}, {person}", "Отметить: {kind}, {person}"),
    ("c.assign_to_me", "Assign to me", "Взять себе"),
    ("c.open", "Details", "Подробнее"),
    ("c.pages", "Pages", "Страницы"),
    ("c.first_page", "First page", "Первая страница"),
    ("c.next_page", "Next page", "Следующая страница"),
    ("c.outcome.reached_by_phone", "Reached by phone", "Связались по телефону"),
    ("c.outcome.visited", "Visited", "Посетили на месте"),
    ("c.outcome.exempted", "Exempted", "Освобождён от требования"),
    ("c.outcome.false_alarm", "False alarm", "Ложная тревога"),
    ("c.outcome.technical_problem", "Technical problem", "Техническая проблема"),
    ("c.outcome.other", "Other (say what in the note)", "Другое (укажите в примечании)"),
    ("c.flash.assigned", "Assigned to you: {n}.", "Взято вами: {n}."),
    ("c.flash.resolved", "Resolved: {n}.", "Закрыто: {n}."),
    ("c.flash.none_selected", "Tick the alerts to act on first.", "Сначала отметьте оповещения."),
    ("c.flash.refused", "Not changed: {n}.", "Не изменено: {n}."),
    ("c.flash.why.validation_failed", "Choose an outcome; “other” also needs a note.", "Выберите итог; для «другое» нужно ещё примечание."),
    ("c.flash.why.illegal_transition", "It was already resolved.", "Оно уже закрыто."),
    ("c.flash.why.conflict", "Someone changed it at the same moment; look again.", "Кто-то изменил его одновременно с вами; проверьте ещё раз."),
    ("c.flash.why.not_found", "It is not among the alerts you can see.", "Его нет среди доступных вам оповещений."),
    ("c.flash.why.other", "Try again.", "Повторите попытку."),
    ("c.resolve", "Resolve", "Закрыть оповещение"),
    ("c.order", "Order", "Предписание"),
    ("c.opened", "Opened", "Открыто"),
    ("c.prompt", "Check-in prompt", "Запрос отметки"),
    ("c.issued", "Issued", "Отправлен"),
    ("c.deadline", "Deadline", "Срок"),
    ("c.tries", "Tries", "Попытки"),
    ("c.tries_title", "Tries, side by side", "Попытки рядом"),
    ("c.no_tries", "The person made no try.", "Человек не сделал ни одной попытки."),
    ("c.try_n", "Try {n}", "Попытка {n}"),
    ("c.message", "Message", "Сообщение"),
    ("c.no_message", "No message was stored for this prompt.", "Для этого запроса сообщение не сохранено."),
    ("c.attempts", "{n} attempt(s)", "попыток: {n}"),
    ("c.delivery.pending", "Waiting to be sent", "Ожидает отправки"),
    ("c.delivery.sent", "Delivered to the sender", "Передано на отправку"),
    ("c.delivery.failed", "Not delivered", "Не доставлено"),
    ("c.prompt_status.open", "Open", "Открыт"),
    ("c.prompt_status.answered", "Answered", "Получен ответ"),
    ("c.prompt_status.missed", "Missed", "Пропущен"),
    ("c.prompt_status.cancelled", "Cancelled", "Отменён"),
    ("c.prompt_status.not_delivered", "Not delivered", "Не доставлен"),
    ("c.checkin.verified", "Verified", "Подтверждено"),
    ("c.checkin.face_mismatch", "Face does not match", "Лицо не совпадает"),
    ("c.checkin.no_face", "No face", "Лицо не найдено"),
    ("c.checkin.multiple_faces", "Several faces", "Несколько лиц"),
    ("c.checkin.low_quality", "Low quality", "Низкое качество"),
    ("c.checkin.liveness_failed", "Liveness failed", "Проверка живости не пройдена"),
    ("c.checkin.outside_geofence", "Outside the fence", "Вне геозоны"),
    ("c.checkin.location_unreliable", "Location unreliable", "Местоположение неточно"),
    ("c.checkin.late", "Late", "С опозданием"),
    ("c.checkin.pending", "Being verified", "Проверяется"),
    ("c.face", "Face", "Лицо"),
    ("c.face_text", "distance {distance}, threshold {threshold} (at or below is a match)", "расстояние {distance}, порог {threshold} (не выше порога — совпадение)"),
    ("c.no_face_distance", "No face was compared.", "Сравнение лица не проводилось."),
    ("c.frontal_frames", "Mean of {n} frontal frame(s).", "Среднее по фронтальным кадрам: {n}."),
    ("c.liveness", "Liveness", "Живость"),
    ("c.passed", "Passed", "Пройдена"),
    ("c.failed", "Failed", "Не пройдена"),
    ("c.not_checked", "Not checked", "Не проверялась"),
    ("c.location", "Location", "Местоположение"),
    ("c.no_location", "The location was not checked.", "Местоположение не проверялось."),
    ("c.sig.title", "Location facts to weigh (the phone reports its own location; it can be faked)", "Факты о местоположении для оценки (телефон сообщает его сам; его можно подделать)"),
    ("c.sig.identical", "Exactly the same coordinates as {n} of the {of} check-ins before.", "Точно те же координаты, что и в {n} из {of} предыдущих отметок."),
    ("c.sig.accuracy", "The same accuracy, {acc} m, in {n} check-ins in a row.", "Одна и та же точность, {acc} м, в {n} отметках подряд."),
    ("c.sig.travel", "{km} km from the check-in before in {time}: {kmh} km/h.", "{km} км от предыдущей отметки за {time}: {kmh} км/ч."),
    ("c.sig.seconds", "{n} s", "{n} с"),
    ("c.sig.minutes", "{n} min", "{n} мин"),
    ("c.sig.travel_instant", "{km} km from the check-in before at the same instant.", "{km} км от предыдущей отметки в тот же момент."),
    ("c.unreadable_frame", "Frame {n} could not be read ({reason}); the try counts.", "Кадр {n} не удалось прочитать ({reason}); попытка засчитана."),
    ("c.location_text", "{distance} m from the centre, accuracy ±{accuracy} m, fence radius {radius} m", "{distance} м от центра, точность ±{accuracy} м, радиус геозоны {radius} м"),
    ("c.fence.inside", "Inside", "Внутри"),
    ("c.fence.outside", "Outside", "Снаружи"),
    ("c.fence.unreliable", "Unreliable", "Неточно"),
    ("c.evidence", "Evidence", "Основания"),
    // Console: persons
    ("c.nav.persons", "Persons", "Люди"),
    ("c.persons", "Persons", "Люди"),
    ("c.persons_lead", "The people of your districts. Press / to search.", "Люди ваших районов. Нажмите / для поиска."),
    ("c.search_persons", "Search persons", "Поиск людей"),
    ("c.name_contains", "Name contains", "Имя содержит"),
    ("c.search", "Search", "Найти"),
    ("c.clear_search", "Clear search", "Сбросить поиск"),
    ("c.no_persons", "No persons match.", "Никого не найдено."),
    ("c.col.name", "Name", "Имя"),
    ("c.col.phone", "Phone", "Телефон"),
    ("c.col.order_ends", "Active order ends", "Предписание до"),
    ("c.no_active_order", "No active order", "Нет действующего"),
    ("c.err.person_not_found", "There is no such person among those you can see.", "Среди доступных вам людей такого нет."),
    ("c.err.role_persons", "Your role does not read personal data.", "Ваша роль не даёт доступа к персональным данным."),
    ("c.back_to_persons", "Back to the persons", "К списку людей"),
    ("c.email", "E-mail", "Эл. почта"),
    ("c.person_id", "Id", "Идентификатор"),
    ("c.timeline", "Timeline", "Хронология"),
    ("c.nothing_yet", "Nothing recorded yet.", "Пока ничего не записано."),
    ("c.orders", "Orders", "Предписания"),
    ("c.no_orders", "No orders in your districts.", "Нет предписаний в ваших районах."),
    ("c.period", "Period", "Срок"),
    ("c.address", "Address", "Адрес"),
    ("c.radius", "Fence radius", "Радиус геозоны"),
    ("c.bases", "Basis", "Основание"),
    ("c.reason", "Reason", "Причина"),
    ("c.basis.arrival", "Arrival", "Прибытие"),
    ("c.basis.contact", "Contact of a case", "Контакт заболевшего"),
    ("c.basis.positive_test", "Own positive test", "Собственный положительный тест"),
    ("c.case", "case", "случай"),
    ("c.test", "test", "тест"),
    ("c.order_status.proposed", "Proposed", "Предложено"),
    ("c.order_status.active", "Active", "Действует"),
    ("c.order_status.completed", "Completed", "Завершено"),
    ("c.order_status.released", "Released", "Снято"),
    ("c.tests", "Tests", "Тесты"),
    ("c.no_tests", "No test results.", "Результатов тестов нет."),
    ("c.test_result.positive", "Positive", "Положительный"),
    ("c.test_result.negative", "Negative", "Отрицательный"),
    ("c.sampled", "sampled", "взят"),
    ("c.lab", "Lab", "Лаборатория"),
    ("c.onset", "symptom onset", "начало симптомов"),
    ("c.contacts", "Contacts", "Контакты"),
    ("c.as_case", "As a case: contacts traced", "Как случай: выявленные контакты"),
    ("c.no_traced", "No contacts traced from this person.", "Контакты этого человека не выявлялись."),
    ("c.n_contacts", "{n} contact(s)", "контактов: {n}"),
    ("c.as_contact", "As a contact", "Как контакт"),
    ("c.not_a_contact", "Not traced as anyone's contact.", "Не выявлен как чей-либо контакт."),
    ("c.last_exposure", "last exposure", "последний контакт"),
    ("c.tier.close", "Close contact", "Близкий контакт"),
    ("c.tier.notify", "To notify", "Уведомить"),
    ("c.symptom_report", "Symptom report", "Сообщение о симптомах"),
    ("c.no_symptoms", "No symptoms", "Симптомов нет"),
    ("c.nav.cases", "Cases", "Случаи"),
    ("c.nav.chains", "Chains", "Цепочки"),
    ("c.cases", "Cases", "Случаи"),
    ("c.cases_lead", "People of your districts with a positive test in force, newest test first.", "Люди ваших районов с действующим положительным тестом, сначала новые."),
    ("c.no_cases", "No cases in your districts.", "В ваших районах случаев нет."),
    ("c.col.sampled", "Test sampled", "Тест взят"),
    ("c.col.traced", "Traced", "Отслежено"),
    ("c.col.contacts", "Contacts", "Контакты"),
    ("c.traced", "Traced", "Отслежено"),
    ("c.not_traced", "Not traced", "Не отслежено"),
    ("c.n_contacts_close", "{n} contact(s), {close} close", "контактов: {n}, близких: {close}"),
    ("c.err.case_not_found", "There is no such case among those you can see.", "Среди доступных вам случаев такого нет."),
    ("c.err.role_cases", "Your role does not trace contacts.", "Ваша роль не отслеживает контакты."),
    ("c.err.role_revise", "Your role does not revise test results.", "Ваша роль не исправляет результаты тестов."),
    ("c.err.bad_date", "Give days as YYYY-MM-DD.", "Укажите даты в виде ГГГГ-ММ-ДД."),
    ("c.err.bad_range", "The first day comes after the last.", "Первый день позже последнего."),
    ("c.back_to_cases", "Cases", "Случаи"),
    ("c.back_to_case", "Back to the case", "Назад к случаю"),
    ("c.flash.traced", "Traced: {n} contact(s) found and stored.", "Отслежено: найдено и сохранено контактов: {n}."),
    ("c.flash.issued", "The orders below were issued.", "Предписания ниже выданы."),
    ("c.flash.revised", "The test was revised and the cascade applied.", "Тест исправлен, последствия применены."),
    ("c.test_in_force", "Positive test in force", "Действующий положительный тест"),
    ("c.infectious_window", "Infectious window", "Заразный период"),
    ("c.no_positive_test", "No positive test in force: nothing to trace.", "Нет действующего положительного теста: отслеживать нечего."),
    ("c.trace", "Trace contacts", "Отследить контакты"),
    ("c.propose_orders", "Propose orders…", "Предложить предписания…"),
    ("c.trace_by_tier", "Trace by tier", "Контакты по уровням"),
    ("c.not_traced_yet", "This case has not been traced yet. Use “Trace contacts”.", "Этот случай ещё не отслежен. Нажмите «Отследить контакты»."),
    ("c.no_contacts_found", "The last trace found no contacts.", "Последнее отслеживание не нашло контактов."),
    ("c.col.contact", "Contact", "Контакт"),
    ("c.col.rule_evidence", "Rule and evidence", "Правило и основания"),
    ("c.col.last_exposure", "Last exposure", "Последний контакт"),
    ("c.other_district", "other district", "другой район"),
    ("c.chain", "Transmission chain", "Цепочка передачи"),
    ("c.open_svg", "Open the drawing as an SVG file", "Открыть рисунок как файл SVG"),
    ("c.revise_test", "Revise a test", "Исправить тест"),
    ("c.test_label", "Test", "Тест"),
    ("c.new_result", "New result", "Новый результат"),
    ("c.preview_revision", "Preview the revision…", "Предпросмотр исправления…"),
    ("c.rule.flight-seat", "Flight, nearby seat", "Рейс, соседнее место"),
    ("c.rule.flight-companion", "Flight, same booking", "Рейс, одно бронирование"),
    ("c.rule.flight-crew", "Flight crew", "Экипаж рейса"),
    ("c.rule.flight-cabin", "Flight, same cabin", "Рейс, тот же салон"),
    ("c.rule.household", "Household", "Домохозяйство"),
    ("c.rule.building", "Same building", "Тот же дом"),
    ("c.rule.building-close", "Same building (whole building quarantined)", "Тот же дом (карантин всего дома)"),
    ("c.rule.ride", "Shared ride", "Общая поездка"),
    ("c.ev.flight", "flight", "рейс"),
    ("c.ev.seats", "seats {case} / {contact}", "места {case} / {contact}"),
    ("c.ev.rows_apart", "{n} row(s) apart", "рядов между ними: {n}"),
    ("c.ev.building", "building", "дом"),
    ("c.ev.units", "units {case} / {contact}", "квартиры {case} / {contact}"),
    ("c.ev.ride", "ride", "поездка"),
    ("c.ev.vehicle", "vehicle", "машина"),
    ("c.ride_role.driver", "driver", "водитель"),
    ("c.ride_role.passenger", "passenger", "пассажир"),
    ("c.orders_preview", "Orders to issue", "Предписания к выдаче"),
    ("c.orders_preview_lead", "Nothing is issued yet. Check who gets which order, then issue exactly this set.", "Пока ничего не выдано. Проверьте, кто какое предписание получит, затем выдайте именно этот набор."),
    ("c.issue_orders", "Issue these orders", "Выдать эти предписания"),
    ("c.nothing_to_issue", "Nothing to issue: every close contact already has the order they need, or needs an address first.", "Выдавать нечего: у всех близких контактов уже есть нужное предписание или сначала нужен адрес."),
    ("c.orders_issued", "Orders issued", "Предписания выданы"),
    ("c.no_close_contacts", "No close contacts: no orders to propose.", "Близких контактов нет: предлагать нечего."),
    ("c.col.action", "Action", "Действие"),
    ("c.col.place_fence", "Place and fence", "Место и геозона"),
    ("c.action.create", "New order", "Новое предписание"),
    ("c.action.extend", "Extend", "Продлить"),
    ("c.action.unchanged", "Unchanged", "Без изменений"),
    ("c.action.needs_address", "Needs an address", "Нужен адрес"),
    ("c.action.expired", "Period over", "Срок истёк"),
    ("c.on_issue", "on issue", "при выдаче"),
    ("c.needs_address", "No residence known: add the place first.", "Место проживания неизвестно: сначала укажите адрес."),
    ("c.other_district_place", "Held by that district's officers.", "Известно сотрудникам того района."),
    ("c.revision_preview", "Revision preview", "Предпросмотр исправления"),
    ("c.revision_preview_lead", "Nothing has changed yet. This is what confirming will release and keep.", "Пока ничего не изменено. Вот что подтверждение снимет и сохранит."),
    ("c.confirm_revision", "Confirm the revision", "Подтвердить исправление"),
    ("c.revision_done", "Test revised", "Тест исправлен"),
    ("c.change", "Change", "Изменение"),
    ("c.contacts_withdrawn", "Contacts withdrawn", "Снятые контакты"),
    ("c.orders_released", "Orders released", "Снятые предписания"),
    ("c.orders_kept", "Orders kept", "Сохранённые предписания"),
    ("c.col.order", "Order", "Предписание"),
    ("c.col.wound_down", "Wound down", "Что завершено"),
    ("c.wound_down", "{prompts} prompt(s), {forms} form(s), {links} link(s), {messages} message(s), {alerts} alert(s) closed", "запросов: {prompts}, анкет: {forms}, ссылок: {links}, сообщений: {messages}, оповещений закрыто: {alerts}"),
    ("c.col.new_end", "New end", "Новый срок"),
    ("c.chains", "Transmission chains", "Цепочки передачи"),
    ("c.chains_lead", "Cases of your districts and whom they exposed. Choose a case or the days of onset.", "Случаи ваших районов и те, кто с ними контактировал. Выберите случай или дни начала."),
    ("c.chains_filter", "Which chains", "Какие цепочки"),
    ("c.case_id", "Case (person id)", "Случай (идентификатор)"),
    ("c.from_day", "From", "С"),
    ("c.to_day", "To", "По"),
    ("c.show", "Show", "Показать"),
    ("c.chains_summary", "{chains} chain(s), {members} people", "цепочек: {chains}, людей: {members}"),
    ("c.no_chains", "No chains for this selection.", "Для этого выбора цепочек нет."),
    ("c.chain_caption", "Chain of {index}: {n} people, {cases} case(s), {depth} generation(s)", "Цепочка {index}: людей {n}, случаев {cases}, поколений {depth}"),
    ("c.legend", "Legend", "Обозначения"),
    ("c.legend.case", "Case", "Случай"),
    ("c.index_case", "index case", "первичный случай"),
    ("c.generation", "generation", "поколение"),
    // Console: orders
    ("c.nav.orders", "Orders", "Предписания"),
    ("c.new_order", "New order", "Новое предписание"),
    ("c.any_status", "Any status", "Любой статус"),
    ("c.no_orders_match", "No orders match this filter.", "Нет предписаний по этому фильтру."),
    ("c.col.ends", "Ends", "Окончание"),
    ("c.open_order_of", "Order of {person}", "Предписание: {person}"),
    ("c.back_to_orders", "Back to the orders", "К предписаниям"),
    ("c.err.order_not_found", "There is no such order among those you can see.", "Среди доступных вам нет такого предписания."),
    ("c.err.role_orders", "Your role does not read orders.", "Ваша роль не даёт доступа к предписаниям."),
    ("c.err.role_write_orders", "Your role does not change orders.", "Ваша роль не позволяет изменять предписания."),
    ("c.err.no_pending_photo", "No submitted photo waits for a decision on this order.", "По этому предписанию нет фото, ожидающего решения."),
    ("c.order_facts", "The order", "Предписание"),
    ("c.order_id", "Order id", "Номер предписания"),
    ("c.coordinates", "Coordinates", "Координаты"),
    ("c.time_zone", "Time zone", "Часовой пояс"),
    ("c.starts", "Starts", "Начало"),
    ("c.ends", "Ends", "Конец"),
    ("c.fence", "Fence", "Геозона"),
    ("c.fence_text", "A circle of {radius} m around the address (to scale)", "Круг радиусом {radius} м вокруг адреса (в масштабе)"),
    ("c.no_map", "No map: this console draws the fence without map tiles.", "Без карты: консоль рисует геозону без картографической подложки."),
    ("c.extend", "Extend", "Продлить"),
    ("c.new_end", "New end", "Новый срок окончания"),
    ("c.release", "Release", "Снять предписание"),
    ("c.release_lead", "Ends the order now: open prompts and links are withdrawn and its open alerts resolved.", "Завершает предписание сейчас: открытые запросы и ссылки отзываются, открытые оповещения закрываются."),
    ("c.enrolment", "Face enrolment", "Регистрация лица"),
    ("c.enrolled_face", "Reference face", "Эталонное лицо"),
    ("c.enrolled", "Enrolled", "Зарегистрировано"),
    ("c.not_enrolled", "Not enrolled", "Не зарегистрировано"),
    ("c.self_enrolment", "Self-enrolment link", "Ссылка для самостоятельной регистрации"),
    ("c.link_status.open", "Sent, waiting for a photo", "Отправлена, ждём фото"),
    ("c.link_status.pending", "Photo waits for your decision", "Фото ждёт решения"),
    ("c.link_status.approved", "Approved", "Одобрено"),
    ("c.link_status.rejected", "Rejected", "Отклонено"),
    ("c.link_status.revoked", "Replaced", "Заменена"),
    ("c.link_created", "created", "создана"),
    ("c.link_expires", "valid until", "действует до"),
    ("c.link_message", "Message", "Сообщение со ссылкой"),
    ("c.link_not_sent", "Not sent: this server has no notification outbox.", "Не отправлено: на этом сервере нет очереди уведомлений."),
    ("c.sent_to", "to {to} {by}", "на {to} {by}"),
    ("c.by_sms", "by SMS", "по SMS-каналу"),
    ("c.by_email", "by e-mail", "по эл. почте"),
    ("c.pending_title", "Submitted photo", "Присланное фото"),
    ("c.pending_lead", "The person sent this photo with the link. Approve it if it shows the person on the order; it is erased after your decision. Sent", "Человек прислал это фото по ссылке. Одобрите его, если на нём человек из предписания; после решения фото удаляется. Прислано"),
    ("c.pending_photo_alt", "The photo the person submitted for self-enrolment", "Фото, присланное человеком для самостоятельной регистрации"),
    ("c.approve", "Approve", "Одобрить"),
    ("c.reject", "Reject", "Отклонить"),
    ("c.reject_reason", "Reason for rejecting", "Причина отказа"),
    ("c.reference_photo", "Reference photo", "Эталонное фото"),
    ("c.reference_photo_hint", "One face, looking at the camera, in good light (JPEG, PNG or WebP). It replaces an earlier enrolment; only the encrypted template is kept.", "Одно лицо, взгляд в камеру, хорошее освещение (JPEG, PNG или WebP). Заменяет прежнюю регистрацию; хранится только зашифрованный шаблон."),
    ("c.enrol", "Enrol this photo", "Зарегистрировать фото"),
    ("c.send_link_lead", "Or let the person send their own photo: the system sends them a single-use link by SMS or e-mail, in their language.", "Или пусть человек пришлёт своё фото: система отправит ему одноразовую ссылку по SMS или эл. почте на его языке."),
    ("c.send_link", "Send a self-enrolment link", "Отправить ссылку для регистрации"),
    ("c.flash.order_created", "The order was created.", "Предписание создано."),
    ("c.flash.order_folded", "The person already had an active order: the new basis and end were added to it.", "У человека уже было действующее предписание: новое основание и срок добавлены к нему."),
    ("c.flash.order_unchanged", "The person's active order already had this basis and a late enough end; nothing changed.", "Действующее предписание уже имело это основание и достаточный срок; ничего не изменено."),
    ("c.flash.order_extended", "The order was extended.", "Предписание продлено."),
    ("c.flash.order_released", "The order was released.", "Предписание снято."),
    ("c.flash.enrolled", "The photo was enrolled as the reference face.", "Фото зарегистрировано как эталонное лицо."),
    ("c.flash.link_created", "A self-enrolment link was created and handed to the outbox.", "Ссылка для регистрации создана и передана в очередь отправки."),
    ("c.flash.approved", "Approved: check-ins now use this face. The photo was erased.", "Одобрено: отметки теперь используют это лицо. Фото удалено."),
    ("c.flash.rejected", "Rejected: the photo and its template were erased.", "Отклонено: фото и шаблон удалены."),
    ("c.form_has_errors", "Some fields need your attention; nothing was stored.", "Исправьте отмеченные поля; ничего не сохранено."),
    ("c.optional", "(optional)", "(необязательно)"),
    ("c.order_for", "For", "Для"),
    ("c.existing_person", "Existing person's id", "Идентификатор существующего человека"),
    ("c.existing_person_hint", "Or leave it empty and register a new person below.", "Или оставьте пустым и зарегистрируйте нового человека ниже."),
    ("c.existing_person_only", "The person must already be registered.", "Человек должен быть уже зарегистрирован."),
    ("c.full_name", "Full name", "Полное имя"),
    ("c.phone_hint", "International form, e.g. +41 79 123 45 67.", "В международном формате, например +7 912 345 67 89."),
    ("c.person_language", "Language of their messages", "Язык сообщений человеку"),
    ("c.place", "Place", "Место"),
    ("c.lat", "Latitude", "Широта"),
    ("c.lon", "Longitude", "Долгота"),
    ("c.radius_m", "Fence radius (m)", "Радиус геозоны (м)"),
    ("c.district_hint_national", "Empty: the person's district.", "Пусто: район человека."),
    ("c.time_zone_hint", "Empty: the zone of the coordinates.", "Пусто: пояс по координатам."),
    ("c.period_hint", "Start and end in the order's time zone.", "Начало и конец по часовому поясу предписания."),
    ("c.basis_kind", "Kind", "Вид основания"),
    ("c.basis_area", "Area of arrival", "Откуда прибыл"),
    ("c.basis_area_hint", "For an arrival.", "Для прибытия."),
    ("c.basis_case", "Case's person id", "Идентификатор заболевшего"),
    ("c.basis_case_hint", "For a contact.", "Для контакта."),
    ("c.basis_test", "Test id", "Номер теста"),
    ("c.basis_test_hint", "For a contact or a positive test.", "Для контакта или положительного теста."),
    ("c.create_order", "Create the order", "Создать предписание"),
    // The console's imports.
    ("c.nav.imports", "Imports", "Импорт"),
    ("c.nav.accounts", "Accounts", "Учётные записи"),
    ("c.imports", "Imports", "Импорт"),
    ("c.imports_lead", "Upload a CSV file: it is checked first and nothing is stored until you commit it.", "Загрузите файл CSV: сначала он проверяется, и ничего не сохраняется, пока вы не подтвердите импорт."),
    ("c.import", "Import", "Импорт"),
    ("c.import_history", "History of imports", "История импорта"),
    ("c.upload_title", "Check a file", "Проверить файл"),
    ("c.import_kind", "What the file holds", "Содержимое файла"),
    ("c.import_kind.orders", "Quarantine orders", "Предписания о карантине"),
    ("c.import_kind.flights", "Flight manifest", "Список пассажиров рейса"),
    ("c.import_kind.residences", "Residence register", "Реестр жильцов"),
    ("c.import_kind.rides", "Ride log", "Журнал поездок"),
    ("c.import_kind.tests", "Test results", "Результаты тестов"),
    ("c.import_status.refused", "Bad rows", "Есть ошибки"),
    ("c.import_status.checked", "Checked", "Проверен"),
    ("c.import_status.running", "Importing", "Импортируется"),
    ("c.import_status.done", "Imported", "Импортирован"),
    ("c.import_status.failed", "Failed", "Сбой"),
    ("c.import_status.expired", "Not committed", "Не подтверждён"),
    ("c.import_district_hint", "For the rows that name no district.", "Для строк, в которых район не указан."),
    ("c.csv_file", "CSV file", "Файл CSV"),
    ("c.csv_file_hint", "UTF-8 with a header row, at most {n} MiB.", "UTF-8 со строкой заголовков, не более {n} МиБ."),
    ("c.check_file", "Check the file", "Проверить файл"),
    ("c.import_columns", "Columns of each kind of file", "Столбцы файлов каждого вида"),
    ("c.no_imports", "No imports in your districts yet.", "В ваших районах ещё ничего не импортировали."),
    ("c.imp.when", "When", "Когда"),
    ("c.imp.file", "File", "Файл"),
    ("c.imp.who", "Who", "Кто"),
    ("c.imp.rows", "Rows", "Строк"),
    ("c.imp.result", "Result", "Результат"),
    ("c.imp.errors", "Errors", "Ошибок"),
    ("c.imp.line", "Line", "Строка"),
    ("c.imp.column", "Column", "Столбец"),
    ("c.imp.reason", "Reason", "Причина"),
    ("c.imp.finished", "Finished", "Завершён"),
    ("c.imp.size", "Size", "Размер"),
    ("c.imp.cancel", "Cancel", "Отмена"),
    ("c.err.import_not_found", "There is no such import in your districts.", "В ваших районах нет такого импорта."),
    ("c.err.role_imports", "Your role imports no files.", "Ваша роль не импортирует файлы."),
    ("c.err.role_import_kind", "Your role does not import this kind of file.", "Ваша роль не импортирует файлы этого вида."),
    ("c.err.file_too_large", "The file is too large: at most {n} MiB. Split it into smaller files.", "Файл слишком велик: не более {n} МиБ. Разделите его на файлы поменьше."),
    ("c.err.bad_upload", "The upload could not be read. Choose the file again.", "Не удалось прочитать загрузку. Выберите файл ещё раз."),
    ("c.err.import_kind", "Choose what the file holds.", "Выберите, что содержит файл."),
    ("c.err.import_district", "Choose one of your districts.", "Выберите один из ваших районов."),
    ("c.err.no_file", "Choose a CSV file that is not empty.", "Выберите непустой файл CSV."),
    ("c.back_to_imports", "Back to the imports", "К импорту"),
    ("c.import_clean_title", "No bad rows", "Ошибок нет"),
    ("c.import_clean", "All {n} rows are valid. Nothing is stored yet.", "Все строки ({n}) в порядке. Пока ничего не сохранено."),
    ("c.commit_rows", "Import {n} rows", "Импортировать строки ({n})"),
    ("c.commit_until", "The checked file waits until", "Проверенный файл ждёт до"),
    ("c.import_running", "Importing", "Идёт импорт"),
    ("c.rows_written", "{done} of {total} rows processed", "Обработано строк: {done} из {total}"),
    ("c.import_committing", "Every row is read; the database is storing them (indexes, then the commit).", "Все строки прочитаны; база данных сохраняет их (индексы, затем фиксация)."),
    ("c.refreshes", "This page refreshes itself.", "Страница обновляется сама."),
    ("c.refresh_now", "Refresh now", "Обновить"),
    ("c.import_done_title", "Imported", "Импорт завершён"),
    ("c.import_done", "{n} rows imported; {changed} records created or changed.", "Импортировано строк: {n}; создано или изменено записей: {changed}."),
    ("c.orders_created", "Orders created", "Создано предписаний"),
    ("c.orders_extended", "Orders extended", "Продлено предписаний"),
    ("c.orders_unchanged", "Orders unchanged", "Без изменений"),
    ("c.import_another", "Import another file", "Импортировать другой файл"),
    ("c.import_again", "Upload a file again", "Загрузить файл снова"),
    ("c.import_expired", "This file was not committed in time and is no longer kept.", "Этот файл не был подтверждён вовремя и больше не хранится."),
    ("c.import_refused_title", "Nothing was stored", "Ничего не сохранено"),
    ("c.import_bad_rows", "{n} error(s) in {rows} row(s): the file is imported whole or not at all. Correct the rows and upload it again.", "Ошибок: {n} в строках: {rows}. Файл импортируется целиком или не импортируется вовсе. Исправьте строки и загрузите его снова."),
    ("c.import_failed", "The import failed; nothing was stored.", "Импорт не удался; ничего не сохранено."),
    ("c.errors_shown", "The first {shown} of {n} errors:", "Первые {shown} из {n} ошибок:"),
    ("c.bad_rows", "Bad rows", "Строки с ошибками"),
    // The console's accounts pages (administrators).
    ("c.users.title", "Accounts", "Учётные записи"),
    ("c.users.lead", "Officers' accounts: roles, districts, lockouts and API tokens.", "Учётные записи сотрудников: роли, районы, блокировки и токены API."),
    ("c.users.name", "Username", "Имя пользователя"),
    ("c.users.name_hint", "Lower-case letters, digits, dot, dash, underscore.", "Строчные латинские буквы, цифры, точка, дефис, подчёркивание."),
    ("c.users.districts_hint", "Comma-separated district codes, or * for all.", "Коды районов через запятую или * для всех."),
    ("c.users.state", "State", "Состояние"),
    ("c.users.active", "Active", "Действует"),
    ("c.users.disabled", "Disabled", "Отключена"),
    ("c.users.locked", "Locked", "Заблокирована"),
    ("c.users.until", "until", "до"),
    ("c.users.last_login", "Last sign-in", "Последний вход"),
    ("c.users.never", "Never", "Никогда"),
    ("c.users.create", "New account", "Новая учётная запись"),
    ("c.users.create_button", "Create the account", "Создать учётную запись"),
    ("c.users.password_generated", "A password is generated and shown to you once; hand it to the officer.", "Пароль создаётся автоматически и показывается вам один раз; передайте его сотруднику."),
    ("c.users.created", "Account {name} created", "Учётная запись {name} создана"),
    ("c.users.password_once", "This is the password. It is shown only now: hand it over safely. The officer can sign in with it right away.", "Это пароль. Он показан только сейчас: передайте его надёжным способом. Сотрудник может сразу войти с ним."),
    ("c.users.new_password_for", "New password for {name}", "Новый пароль для {name}"),
    ("c.users.back", "Back to the accounts", "К учётным записям"),
    ("c.users.back_to", "Back to {name}", "Назад к {name}"),
    ("c.users.failed", "Failed sign-ins in a row", "Неудачных входов подряд"),
    ("c.users.locked_until", "Locked until", "Заблокирована до"),
    ("c.users.disabled_at", "Disabled on", "Отключена"),
    ("c.users.created_at", "Created", "Создан"),
    ("c.users.actions", "Actions", "Действия"),
    ("c.users.unlock", "Unlock", "Разблокировать"),
    ("c.users.reset_password", "New password", "Новый пароль"),
    ("c.users.disable", "Disable the account", "Отключить учётную запись"),
    ("c.users.disable_hint", "Disabling ends the account's sessions and stops its tokens. A new password ends its sessions too.", "Отключение завершает сеансы учётной записи и останавливает её токены. Новый пароль тоже завершает сеансы."),
    ("c.users.set_districts", "Districts", "Районы"),
    ("c.users.tokens", "API tokens", "Токены API"),
    ("c.users.no_tokens", "No API tokens.", "Токенов API нет."),
    ("c.users.token_id", "Token", "Токен"),
    ("c.users.expires", "Expires", "Истекает"),
    ("c.users.revoked", "Revoked", "Отозван"),
    ("c.users.expired", "Expired", "Истёк"),
    ("c.users.revoke", "Revoke", "Отозвать"),
    ("c.users.revoke_token", "Revoke token {id}", "Отозвать токен {id}"),
    ("c.users.token_days", "New token valid for (days)", "Срок нового токена (дней)"),
    ("c.users.create_token", "Create a token", "Создать токен"),
    ("c.users.token_for", "API token for {name}", "Токен API для {name}"),
    ("c.users.token_once", "This is the token. It is shown only now; it acts with the account's role and districts and stops with the account.", "Это токен. Он показан только сейчас; он действует с ролью и районами учётной записи и перестаёт работать вместе с ней."),
    ("c.err.role_users", "Only administrators manage accounts.", "Учётными записями управляют только администраторы."),
    ("c.err.user_not_found", "There is no such account.", "Такой учётной записи нет."),
    ("c.err.token_not_found", "This account has no such token.", "У этой учётной записи нет такого токена."),
    ("c.nav.follow_up", "Follow-up", "Сопровождение"),
    ("c.fu.title", "Follow-up", "Сопровождение"),
    ("c.fu.lists", "Worklists", "Списки работы"),
    ("c.fu.list.interview", "To interview", "Опросить"),
    ("c.fu.list.to_call", "To call today", "Позвонить сегодня"),
    ("c.fu.list.no_address", "Without address", "Без адреса"),
    ("c.fu.list.to_inform", "To inform", "Уведомить"),
    ("c.fu.list.suspected", "Suspected cases", "Подозрение на случай"),
    ("c.fu.lead.interview", "Cases whose interview is due or whose contacts are not traced yet.", "Случаи, которых пора опросить или чьи контакты ещё не отслежены."),
    ("c.fu.lead.to_call", "Close contacts to call by the end of today, most overdue first.", "Близкие контакты, которым нужно позвонить до конца дня, сначала самые просроченные."),
    ("c.fu.lead.no_address", "Close contacts with no address on record: find where they stay, then issue the order.", "Близкие контакты без известного адреса: узнайте, где они находятся, и выдайте предписание."),
    ("c.fu.lead.to_inform", "Contacts of the notify tier who have not yet been sent their exposure notice.", "Контакты уровня уведомления, которым ещё не отправлено уведомление о контакте."),
    ("c.fu.lead.suspected", "Monitored contacts whose symptoms made them suspected cases: arrange a test (and, if needed, an isolation order).", "Контакты под наблюдением с симптомами — подозрение на случай: организуйте тест (и при необходимости изоляцию)."),
    ("c.fu.empty", "Nothing on this list.", "В этом списке ничего нет."),
    ("c.fu.col.phone", "Phone", "Телефон"),
    ("c.fu.col.case", "Case", "Случай"),
    ("c.fu.col.status", "Follow-up", "Сопровождение"),
    ("c.fu.col.due", "Due", "Срок"),
    ("c.fu.col.assignee", "Assignee", "Исполнитель"),
    ("c.fu.unanswered", "{n} unanswered", "без ответа: {n}"),
    ("c.fu.overdue", "Overdue", "Просрочено"),
    ("c.fu.back", "Follow-up", "Сопровождение"),
    ("c.fu.no_phone", "No phone on record", "Телефон неизвестен"),
    ("c.fu.email", "E-mail", "Эл. почта"),
    ("c.fu.tier", "Tier", "Уровень"),
    ("c.fu.opened", "Opened", "Открыто"),
    ("c.fu.reached_at", "Reached", "Дозвонились"),
    ("c.fu.unassign", "Put back in the pool", "Вернуть в общий список"),
    ("c.fu.why", "Why this person is a contact", "Почему этот человек — контакт"),
    ("c.fu.calls", "Call log", "Журнал звонков"),
    ("c.fu.no_calls", "No call yet.", "Звонков ещё не было."),
    ("c.fu.log_call", "Log a call", "Записать звонок"),
    ("c.fu.outcome", "Outcome", "Результат"),
    ("c.fu.outcome.reached", "Reached", "Дозвонились"),
    ("c.fu.outcome.no_answer", "No answer", "Нет ответа"),
    ("c.fu.outcome.wrong_number", "Wrong number", "Неверный номер"),
    ("c.fu.outcome.refused", "Refused", "Отказ"),
    ("c.fu.outcome.not_a_contact", "Not a contact", "Не контакт"),
    ("c.fu.note", "Note", "Заметка"),
    ("c.fu.save_call", "Save the call", "Сохранить звонок"),
    ("c.fu.place", "Place of the order", "Место предписания"),
    ("c.fu.place_lead", "No address is on record. Where the person stays (the order is issued there, from now until the last exposure plus the quarantine days):", "Адрес неизвестен. Где находится человек (предписание выдаётся туда — с этого момента до последнего контакта плюс дни карантина):"),
    ("c.fu.address", "Address", "Адрес"),
    ("c.fu.lat", "Latitude", "Широта"),
    ("c.fu.lon", "Longitude", "Долгота"),
    ("c.fu.issue_order", "Issue the order here", "Выдать предписание сюда"),
    ("c.fu.changed", "Someone else changed this follow-up meanwhile; check it and try again.", "Кто-то изменил это сопровождение; проверьте и повторите."),
    ("c.fu.done.call", "The call is logged.", "Звонок записан."),
    ("c.fu.done.assigned", "Assignment saved.", "Назначение сохранено."),
    ("c.fu.done.informed", "The exposure notice is on its way; the contact is monitored from now on.", "Уведомление отправлено; контакт под наблюдением."),
    ("c.fu.done.suspected", "Marked as a suspected case: on the suspected list, to be tested.", "Отмечен как подозрение на случай: в списке, нужен тест."),
    ("c.fu.informed_at", "Informed", "Уведомлён"),
    ("c.fu.monitor_until", "Monitored until", "Наблюдение до"),
    ("c.fu.notice", "Exposure notice", "Уведомление о контакте"),
    ("c.fu.notice_lead", "Tells the person what happened, what to watch for and whom to call, in their language; then a daily symptom form until the monitoring ends. No quarantine.", "Сообщает человеку, что произошло, на что обратить внимание и куда звонить, на его языке; затем ежедневная анкета о симптомах до конца наблюдения. Без карантина."),
    ("c.fu.send_notice", "Send the exposure notice", "Отправить уведомление"),
    ("c.fu.not_informed", "not sent — {why}. Inform the person by phone.", "не отправлено — {why}. Сообщите по телефону."),
    ("c.fu.suspect", "Suspected case", "Подозрение на случай"),
    ("c.fu.suspect_lead", "After a symptomatic report: the person goes on the suspected list, to be tested. Isolation is a separate order.", "После сообщения о симптомах: человек попадает в список подозрений, нужен тест. Изоляция — отдельное предписание."),
    ("c.fu.mark_suspected", "Mark as suspected case", "Отметить подозрение на случай"),
    ("c.fu.notices", "Exposure notices", "Уведомления о контакте"),
    ("c.fu.no_notices", "No contact of this case in your districts is waiting for a notice.", "Нет контактов в ваших районах, ожидающих уведомления."),
    ("c.fu.notices_lead", "{n} notify-tier contacts in your districts are waiting for their notice (no quarantine; daily symptom forms).", "{n} контактов уровня «уведомить» в ваших районах ждут уведомления (без карантина; ежедневные анкеты)."),
    ("c.fu.send_notices", "Send the exposure notices", "Отправить уведомления"),
    ("c.fu.notices_sent", "Exposure notices sent: {n}. Those contacts are monitored from now on.", "Отправлено уведомлений: {n}; эти контакты под наблюдением."),
    ("c.fu.notices_unsent", "Contacts not sent a notice: {n} (no phone or e-mail, or no sender). They stay on this list, to be called.", "{n} контактам не удалось отправить уведомление (нет телефона или почты, или отправителя): они остаются в списке для звонка."),
    ("c.fu.status.to_interview", "To interview", "Опросить"),
    ("c.fu.status.interviewed", "Interviewed", "Опрошен"),
    ("c.fu.status.to_call", "To call", "Позвонить"),
    ("c.fu.status.to_inform", "To inform", "Уведомить"),
    ("c.fu.status.reached", "Reached", "На связи"),
    ("c.fu.status.unreachable", "Unreachable", "Недоступен"),
    ("c.fu.status.refused", "Refused", "Отказ"),
    ("c.fu.status.not_a_contact", "Not a contact", "Не контакт"),
    ("c.fu.status.quarantined", "Quarantined", "На карантине"),
    ("c.fu.status.monitored", "Monitored", "Под наблюдением"),
    ("c.fu.status.released", "Released", "Освобождён"),
    ("c.fu.status.suspected", "Suspected case", "Подозрение на случай"),
    ("c.fu.name_contact", "Name a contact", "Добавить контакт"),
    ("c.fu.name_contact_lead", "Someone the case named in the interview. They are tiered by the same rules and get a follow-up.", "Человек, названный в опросе. Уровень определяется по тем же правилам; создаётся сопровождение."),
    ("c.fu.existing_id", "Person id (someone on record)", "Идентификатор (если уже известен)"),
    ("c.fu.or_new", "or someone new:", "или новый человек:"),
    ("c.fu.full_name", "Full name", "Полное имя"),
    ("c.fu.setting", "Where they met", "Где встречались"),
    ("c.fu.setting.household", "Household", "Домохозяйство"),
    ("c.fu.setting.workplace", "Workplace", "Работа"),
    ("c.fu.setting.school", "School", "Учёба"),
    ("c.fu.setting.social", "Social", "Общение"),
    ("c.fu.setting.healthcare", "Healthcare", "Медицинское учреждение"),
    ("c.fu.setting.other", "Other", "Другое"),
    ("c.fu.last_exposure", "Last met", "Последняя встреча"),
    ("c.fu.utc", "Time in UTC.", "Время в UTC."),
    ("c.fu.add_contact", "Add the contact", "Добавить контакт"),
    ("c.rule.interview", "Named in the interview", "Назван в опросе"),
    ("c.fu.named_by", "entered by {who}", "внёс {who}"),
    ("c.ev.booking", "booking", "бронь"),
    ("c.err.follow_up_not_found", "There is no such follow-up among those you can see.", "Среди доступных вам сопровождений такого нет."),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation() {
        assert_eq!(Lang::negotiate(None, None), Lang::En);
        assert_eq!(
            Lang::negotiate(None, Some("ru-RU,ru;q=0.9,en;q=0.8")),
            Lang::Ru
        );
        assert_eq!(
            Lang::negotiate(None, Some("fr-CH, en;q=0.5, ru;q=0.7")),
            Lang::Ru
        );
        assert_eq!(Lang::negotiate(None, Some("fr, it;q=0.9")), Lang::En);
        assert_eq!(Lang::negotiate(None, Some("ru;q=0, en")), Lang::En);
        assert_eq!(Lang::negotiate(Some("en"), Some("ru")), Lang::En);
        assert_eq!(Lang::negotiate(Some("xx"), Some("ru")), Lang::Ru);
        // The newer languages, by their primary subtag.
        assert_eq!(Lang::negotiate(None, Some("uk-UA,uk;q=0.9")), Lang::Uk);
        assert_eq!(Lang::negotiate(None, Some("pl-PL")), Lang::Pl);
        assert_eq!(Lang::negotiate(None, Some("de-CH, en;q=0.5")), Lang::De);
        assert_eq!(Lang::negotiate(None, Some("zh-Hans-CN,zh;q=0.9")), Lang::Zh);
        assert_eq!(
            Lang::negotiate(None, Some("ar-EG,ar;q=0.9,en;q=0.5")),
            Lang::Ar
        );
        assert_eq!(Lang::negotiate(Some("AR"), None), Lang::Ar);
        // The console offers its own two only.
        assert_eq!(
            Lang::negotiate_among(&Lang::CONSOLE, None, Some("de, ru;q=0.5")),
            Lang::Ru
        );
        assert_eq!(
            Lang::negotiate_among(&Lang::CONSOLE, Some("ar"), None),
            Lang::En
        );
    }

    #[test]
    fn codes_and_names_are_unique_and_only_arabic_is_rtl() {
        for (i, l) in Lang::ALL.iter().enumerate() {
            assert_eq!(Lang::parse(l.code()), Some(*l));
            assert!(Lang::ALL[i + 1..].iter().all(|m| m.code() != l.code()));
            assert!(Lang::ALL[i + 1..].iter().all(|m| m.name() != l.name()));
            assert_eq!(l.dir() == Dir::Rtl, *l == Lang::Ar, "{}", l.code());
            // A person's stored language is such a code.
            assert!(lazaret_core::contact_info::Language::parse(l.code()).is_ok());
        }
        assert_eq!(Lang::ALL.len(), 7);
    }

    fn holes(s: &str) -> Vec<String> {
        let mut v: Vec<String> = s
            .split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(h, _)| h.to_owned()))
            .collect();
        v.sort();
        v
    }

    /// Every language has exactly English's keys, in the same order, each
    /// translated (a sentence equal to English's is a text left out) with
    /// the same placeholders (or the script fills one language only).
    #[test]
    fn every_text_in_every_language_and_keys_unique() {
        let en = Lang::En.pack().texts;
        for (i, (key, _)) in en.iter().enumerate() {
            assert!(en[i + 1..].iter().all(|t| t.0 != *key), "{key} twice");
        }
        for lang in Lang::ALL {
            let texts = lang.pack().texts;
            let code = lang.code();
            let keys =
                |t: &[(&'static str, &'static str)]| t.iter().map(|t| t.0).collect::<Vec<_>>();
            assert_eq!(keys(texts), keys(en), "{code}: keys differ from English's");
            for ((key, text), (_, english)) in texts.iter().zip(en) {
                assert!(!text.trim().is_empty(), "{code} {key}");
                if lang != Lang::En && text.contains(' ') {
                    assert_ne!(text, english, "{code} {key} is not translated");
                }
                assert_eq!(holes(text), holes(english), "{code} {key}");
            }
        }
    }

    #[test]
    fn every_console_text_in_both_languages_and_keys_unique() {
        for (i, (key, en, ru)) in TEXTS.iter().enumerate() {
            assert!(!en.is_empty() && !ru.is_empty(), "{key}");
            assert_ne!(en, ru, "{key} is not translated");
            assert!(TEXTS[i + 1..].iter().all(|t| t.0 != *key), "{key} twice");
            assert_eq!(holes(en), holes(ru), "{key}");
        }
        assert!(TEXTS.iter().all(|t| t.0.starts_with("c.")));
        // A page text the console also shows reads in the console's language.
        assert_eq!(Lang::Ru.text("lang_label"), Some("Язык"));
        assert_eq!(Lang::Ru.text("c.sign_in"), Some("Вход"));
        assert_eq!(Lang::Ar.text("c.sign_in"), Some("Sign in"));
        // No page text hides among the console's keys.
        for lang in Lang::ALL {
            assert!(lang.pack().texts.iter().all(|t| !t.0.starts_with("c.")));
        }
    }
}
