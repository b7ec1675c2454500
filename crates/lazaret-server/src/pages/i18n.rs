//! The pages' languages and texts. English and Russian, like the message
//! templates in `notify::templates`; a text missing in one language is a
//! test failure, not a silent fallback.

/// A language the pages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ru,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ru];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    /// The language's own name, for the switch.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Ru => "Русский",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|l| code.trim().eq_ignore_ascii_case(l.code()))
    }

    /// The page language: an explicit choice (`?lang=`) wins, then the best
    /// supported entry of `Accept-Language` by its q-value, then English.
    pub fn negotiate(choice: Option<&str>, accept_language: Option<&str>) -> Lang {
        if let Some(l) = choice.and_then(Lang::parse) {
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
            if let Some(l) = Lang::parse(primary) {
                // The first of equal weights wins, as the header lists them by preference.
                if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, l));
                }
            }
        }
        best.map_or(Lang::En, |(_, l)| l)
    }

    /// The text for `key`, or None when there is none.
    pub fn text(self, key: &str) -> Option<&'static str> {
        TEXTS.iter().find(|t| t.0 == key).map(|t| match self {
            Lang::En => t.1,
            Lang::Ru => t.2,
        })
    }
}

/// `(key, English, Russian)`. Keys starting with `js.` are handed to the
/// page's script (outcomes and errors it shows); the others are filled into
/// the HTML.
pub const TEXTS: &[(&str, &str, &str)] = &[
    // Shared
    ("lang_label", "Language", "Язык"),
    ("noscript", "This page needs JavaScript turned on.", "Для этой страницы нужно включить JavaScript."),
    ("privacy",
     "Your photos are compared only with the photo enrolled for your order, then deleted. A person, not the computer, decides what happens next.",
     "Ваши фото сравниваются только с фото, сохранённым для вашего предписания, и затем удаляются. Решение всегда принимает человек, а не компьютер."),
    ("js.loading", "Checking your link…", "Проверяем ссылку…"),
    ("js.sending", "Sending… please keep this page open.", "Отправляем… пожалуйста, не закрывайте страницу."),
    ("js.no_token", "This link is incomplete. Open the full link from your message.", "Ссылка неполная. Откройте полную ссылку из сообщения."),
    ("js.invalid_token", "This link is not valid. Open the newest link from your messages, or contact your health officer.", "Ссылка недействительна. Откройте самую новую ссылку из сообщений или свяжитесь с сотрудником службы здравоохранения."),
    ("js.network", "No connection. Check your signal, then press the button again.", "Нет связи. Проверьте сигнал и нажмите кнопку ещё раз."),
    ("js.server", "Something went wrong on our side. Please try again in a minute.", "У нас что-то пошло не так. Пожалуйста, попробуйте через минуту."),
    ("js.unavailable", "The service is busy or not ready. Please try again in a minute.", "Сервис занят или не готов. Пожалуйста, попробуйте через минуту."),
    ("js.too_large", "The photo is too large. Take it again at a lower resolution.", "Фото слишком большое. Сделайте его ещё раз с меньшим разрешением."),
    ("js.send_again", "Send again", "Отправить ещё раз"),
    // Check-in
    ("checkin_title", "Check-in", "Отметка"),
    ("checkin_intro",
     "You were asked to check in. The camera will take a few pictures of your face while you follow the instructions, and your phone will share its location once.",
     "Вас попросили отметиться. Камера сделает несколько снимков лица, пока вы следуете инструкциям, а телефон один раз передаст местоположение."),
    ("checkin_tips", "Hold the phone at eye level, in good light, with only your face in the picture.", "Держите телефон на уровне глаз, при хорошем освещении, чтобы в кадре было только ваше лицо."),
    ("checkin_start", "Start check-in", "Начать отметку"),
    ("checkin_file_label", "No camera? Take one photo of your face instead:", "Камера не открывается? Сделайте одно фото лица:"),
    ("checkin_file_send", "Send this photo", "Отправить это фото"),
    ("js.deadline", "Please answer by {time}.", "Пожалуйста, ответьте до {time}."),
    ("js.tries_left", "Tries left: {n}.", "Осталось попыток: {n}."),
    ("js.steps", "The camera will ask you to: {steps}.", "Камера попросит вас: {steps}."),
    ("js.then", ", then ", ", затем "),
    ("js.pose_center", "look straight at the camera", "посмотреть прямо в камеру"),
    ("js.pose_left", "turn your head to your left", "повернуть голову влево"),
    ("js.pose_right", "turn your head to your right", "повернуть голову вправо"),
    ("js.pose_single", "take one photo looking straight at the camera", "сделать одно фото, глядя прямо в камеру"),
    ("js.now_center", "Look straight at the camera", "Посмотрите прямо в камеру"),
    ("js.now_left", "Turn your head to your left", "Поверните голову влево"),
    ("js.now_right", "Turn your head to your right", "Поверните голову вправо"),
    ("js.countdown", "{pose} — picture in {n}", "{pose} — снимок через {n}"),
    ("js.captured", "Picture {i} of {n} taken.", "Снимок {i} из {n} сделан."),
    ("js.asking", "Please allow the camera and your location when the phone asks.", "Разрешите доступ к камере и местоположению, когда телефон спросит."),
    ("js.camera_denied", "The camera is blocked. Allow the camera for this page in your browser settings, then press Start again.", "Камера заблокирована. Разрешите камеру для этой страницы в настройках браузера и снова нажмите «Начать отметку»."),
    ("js.camera_missing", "No camera could be opened. Use the photo option below, or try another browser.", "Не удалось открыть камеру. Используйте вариант с фото ниже или другой браузер."),
    ("js.location_denied", "Your location is needed for the check-in. Allow location for this page in your browser settings, then press Start again.", "Для отметки нужно ваше местоположение. Разрешите его для этой страницы в настройках браузера и снова нажмите «Начать отметку»."),
    ("js.location_failed", "Your location could not be found. Go near a window or outside, turn on location, then press Start again.", "Не удалось определить местоположение. Подойдите к окну или выйдите на улицу, включите геолокацию и снова нажмите «Начать отметку»."),
    ("js.out.verified", "Thank you — your check-in is confirmed. Nothing more to do.", "Спасибо — ваша отметка подтверждена. Больше ничего делать не нужно."),
    ("js.out.face_mismatch", "Your face could not be confirmed as the enrolled person.", "Не удалось подтвердить, что на снимках тот же человек, что на сохранённом фото."),
    ("js.out.no_face", "No face was found in the pictures. Keep your whole face in the picture.", "На снимках не найдено лицо. Держите лицо целиком в кадре."),
    ("js.out.multiple_faces", "More than one face was in the pictures. Make sure only you are in the picture.", "На снимках больше одного лица. Убедитесь, что в кадре только вы."),
    ("js.out.low_quality", "The pictures were too dark, blurred or small. Move to better light and hold the phone still.", "Снимки слишком тёмные, размытые или мелкие. Перейдите к свету и держите телефон неподвижно."),
    ("js.out.liveness_failed", "The head movements did not match the instructions. Follow each instruction before the picture is taken.", "Движения головы не совпали с инструкциями. Выполняйте каждую инструкцию до того, как будет сделан снимок."),
    ("js.out.outside_geofence", "Your location is outside the place of your quarantine.", "Ваше местоположение вне места вашего карантина."),
    ("js.out.location_unreliable", "Your location was not precise enough. Go near a window or outside and turn on precise location.", "Местоположение определено недостаточно точно. Подойдите к окну или выйдите на улицу и включите точную геолокацию."),
    ("js.out.late", "Your answer arrived after the deadline. It was recorded for your health officer.", "Ваш ответ пришёл после срока. Он сохранён для сотрудника службы здравоохранения."),
    ("js.retry", "Try again", "Попробовать ещё раз"),
    ("js.no_tries", "No tries are left. Your health officer will review this and may contact you; nothing is decided automatically.", "Попыток не осталось. Сотрудник службы здравоохранения рассмотрит это и может с вами связаться; автоматически ничего не решается."),
    ("js.token_used", "This check-in was already completed. Nothing more to do.", "Эта отметка уже выполнена. Больше ничего делать не нужно."),
    ("js.token_expired", "This check-in link has expired. Your health officer will contact you if needed.", "Срок действия ссылки для отметки истёк. При необходимости с вами свяжется сотрудник службы здравоохранения."),
    ("js.no_tries_left", "All tries for this check-in are used. Your health officer will review it.", "Все попытки для этой отметки использованы. Сотрудник службы здравоохранения рассмотрит её."),
    ("js.not_enrolled", "No photo of you is enrolled yet. Contact your health officer.", "Ваше фото ещё не сохранено. Свяжитесь с сотрудником службы здравоохранения."),
    ("js.invalid_image", "A picture could not be read. Please try again.", "Не удалось прочитать снимок. Пожалуйста, попробуйте ещё раз."),
    // Symptoms
    ("symptoms_title", "How are you feeling today?", "Как вы себя чувствуете сегодня?"),
    ("symptoms_intro", "Tick everything you have noticed today. It takes under a minute.", "Отметьте всё, что вы заметили сегодня. Это займёт меньше минуты."),
    ("symptoms_legend", "Today I have", "Сегодня у меня"),
    ("sym_none", "No symptoms — I feel well", "Нет симптомов — я чувствую себя хорошо"),
    ("sym_fever", "Fever or chills", "Температура или озноб"),
    ("sym_cough", "Cough", "Кашель"),
    ("sym_shortness_of_breath", "Shortness of breath", "Одышка"),
    ("sym_sore_throat", "Sore throat", "Боль в горле"),
    ("sym_loss_of_taste_or_smell", "Loss of taste or smell", "Потеря вкуса или обоняния"),
    ("sym_fatigue", "Unusual tiredness", "Необычная усталость"),
    ("sym_other", "Something else", "Другое"),
    ("other_label", "Describe it (up to 500 characters)", "Опишите (до 500 символов)"),
    ("temp_label", "Temperature in °C, if you measured it (optional)", "Температура в °C, если измеряли (необязательно)"),
    ("symptoms_submit", "Send", "Отправить"),
    ("emergency", "In an emergency, call your local emergency number.", "В экстренном случае звоните в местную службу экстренной помощи."),
    ("js.sym_pick", "Tick at least one box, or “No symptoms”.", "Отметьте хотя бы один пункт или «Нет симптомов»."),
    ("js.sym_other_text", "Describe the other symptom in the box.", "Опишите другой симптом в поле."),
    ("js.sym_thanks", "Thank you — your answer was received.", "Спасибо — ваш ответ получен."),
    ("js.sym_alert", "Because you reported symptoms, an investigator will contact you. In an emergency, call your local emergency number.", "Так как вы сообщили о симптомах, с вами свяжется специалист. В экстренном случае звоните в местную службу экстренной помощи."),
    ("js.sym_used", "Today's form was already answered. Nothing more to do.", "Сегодняшняя анкета уже заполнена. Больше ничего делать не нужно."),
    ("js.sym_expired", "This form was for a day that is over. Wait for today's link.", "Эта анкета была для прошедшего дня. Дождитесь ссылки на сегодня."),
    ("js.sym_invalid", "Please check your answer: {detail}", "Проверьте ответ: {detail}"),
    // Enrolment
    ("enroll_title", "Your reference photo", "Ваше фото для сверки"),
    ("enroll_intro",
     "Take one clear photo of your face. Check-ins will compare your face with it. An officer reviews it before it is used.",
     "Сделайте одно чёткое фото лица. При отметках ваше лицо будут сравнивать с ним. Перед использованием его проверит сотрудник."),
    ("enroll_tips", "Face the camera in good light, no sunglasses or mask, only you in the picture.", "Смотрите в камеру при хорошем освещении, без тёмных очков и маски, в кадре только вы."),
    ("enroll_camera", "Use the camera", "Открыть камеру"),
    ("enroll_take", "Take photo", "Сделать фото"),
    ("enroll_file_label", "Or choose a photo:", "Или выберите фото:"),
    ("enroll_send", "Send photo", "Отправить фото"),
    ("js.enr_pick", "Take or choose a photo first.", "Сначала сделайте или выберите фото."),
    ("js.enr_taken", "Photo taken. Press “Send photo”, or take it again.", "Фото сделано. Нажмите «Отправить фото» или сделайте его заново."),
    ("js.enr_done", "Thank you — your photo was received. An officer will review it; you will get check-in requests once it is approved.", "Спасибо — фото получено. Его проверит сотрудник; после одобрения вы начнёте получать запросы на отметку."),
    ("js.enr_no_face", "No face was found. Take the photo again with your whole face in the picture.", "Лицо не найдено. Сделайте фото ещё раз, чтобы лицо было целиком в кадре."),
    ("js.enr_multiple_faces", "More than one face is in the photo. Take it again with only you in the picture.", "На фото больше одного лица. Сделайте его заново, чтобы в кадре были только вы."),
    ("js.enr_low_quality", "The photo is too dark, blurred, small or cut off. Take it again in better light, facing the camera.", "Фото слишком тёмное, размытое, мелкое или обрезанное. Сделайте его заново при лучшем освещении, глядя в камеру."),
    ("js.enr_invalid_image", "This file is not a photo we can read. Choose a JPEG or PNG photo.", "Этот файл не удаётся прочитать как фото. Выберите фото JPEG или PNG."),
    ("js.enr_used", "A photo was already sent with this link. An officer will review it.", "С этой ссылкой фото уже отправлено. Его проверит сотрудник."),
    ("js.enr_expired", "This link has expired. Ask your health officer for a new one.", "Срок действия ссылки истёк. Попросите у сотрудника службы здравоохранения новую."),
    ("js.enr_revoked", "This link was replaced by a newer one. Use the newest link from your messages.", "Эта ссылка заменена новой. Используйте самую новую ссылку из сообщений."),
    ("js.enr_ended", "Your order has ended; no photo is needed.", "Срок вашего предписания истёк; фото не нужно."),

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
            Lang::negotiate(None, Some("de-CH, en;q=0.5, ru;q=0.7")),
            Lang::Ru
        );
        assert_eq!(Lang::negotiate(None, Some("de, fr;q=0.9")), Lang::En);
        assert_eq!(Lang::negotiate(None, Some("ru;q=0, en")), Lang::En);
        assert_eq!(Lang::negotiate(Some("en"), Some("ru")), Lang::En);
        assert_eq!(Lang::negotiate(Some("xx"), Some("ru")), Lang::Ru);
    }

    #[test]
    fn every_text_in_both_languages_and_keys_unique() {
        for (i, (key, en, ru)) in TEXTS.iter().enumerate() {
            assert!(!en.is_empty() && !ru.is_empty(), "{key}");
            assert_ne!(en, ru, "{key} is not translated");
            assert!(TEXTS[i + 1..].iter().all(|t| t.0 != *key), "{key} twice");
            // Placeholders must match, or the script fills one language only.
            let holes = |s: &str| {
                let mut v: Vec<String> = s
                    .split('{')
                    .skip(1)
                    .filter_map(|p| p.split_once('}').map(|(h, _)| h.to_owned()))
                    .collect();
                v.sort();
                v
            };
            assert_eq!(holes(en), holes(ru), "{key}");
        }
    }
}
