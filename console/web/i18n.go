package web

import "github.com/hotline-az/hotline"

// langOf is the interface language: the officer's choice, Azerbaijani by
// default.
func langOf(l hotline.Lang) hotline.Lang {
	if l.Valid() {
		return l
	}
	return hotline.LangAz
}

// translate returns the text of key in lang (English when a translation
// is missing, the key itself when the key is unknown).
func translate(lang hotline.Lang, key string) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	i := map[hotline.Lang]int{hotline.LangAz: 0, hotline.LangRu: 1, hotline.LangEn: 2}[langOf(lang)]
	if m[i] == "" {
		return m[2]
	}
	return m[i]
}

// messages holds the interface text: az, ru, en.
var messages = map[string][3]string{
	"app.name":               {"Qaynar xətt", "Горячая линия", "Hotline"},
	"login.title":            {"Giriş", "Вход", "Log in"},
	"login.name":             {"Ad və soyad", "Имя и фамилия", "Name"},
	"login.password":         {"Parol", "Пароль", "Password"},
	"login.submit":           {"Daxil ol", "Войти", "Log in"},
	"login.failed":           {"Ad, parol və ya kod səhvdir.", "Неверное имя, пароль или код.", "Wrong name, password or code."},
	"login.locked":           {"Çox cəhd edildi. Bir az sonra yenidən cəhd edin.", "Слишком много попыток. Попробуйте позже.", "Too many attempts. Try again later."},
	"login.expired":          {"Sessiya bitdi. Yenidən daxil olun.", "Сеанс истёк. Войдите снова.", "Your session ended. Log in again."},
	"totp.title":             {"Təsdiq kodu", "Код подтверждения", "Verification code"},
	"totp.code":              {"Autentifikator tətbiqindəki 6 rəqəmli kod", "6-значный код из приложения-аутентификатора", "6-digit code from your authenticator app"},
	"totp.submit":            {"Təsdiq et", "Подтвердить", "Verify"},
	"totp.enroll":            {"Autentifikator tətbiqi ilə bu QR kodu skan edin (və ya açarı daxil edin), sonra kodu yazın.", "Отсканируйте QR-код приложением-аутентификатором (или введите ключ), затем введите код.", "Scan this QR code with your authenticator app (or type the key), then enter the code it shows."},
	"totp.key":               {"Açar", "Ключ", "Key"},
	"nav.queue":              {"Növbə", "Очередь", "Queue"},
	"nav.officers":           {"Əməkdaşlar", "Сотрудники", "Officers"},
	"nav.rota":               {"Növbətçilik", "График", "Rota"},
	"nav.outbox":             {"Göndərmələr", "Отправка", "Outbox"},
	"nav.audit":              {"Audit", "Аудит", "Audit log"},
	"nav.logout":             {"Çıxış", "Выйти", "Log out"},
	"queue.title":            {"Açıq müraciətlər", "Открытые обращения", "Open cases"},
	"queue.empty":            {"Açıq müraciət yoxdur.", "Открытых обращений нет.", "No open cases."},
	"queue.refresh":          {"Səhifə hər 30 saniyədən bir yenilənir.", "Страница обновляется каждые 30 секунд.", "This page refreshes every 30 seconds."},
	"col.code":               {"Kod", "Код", "Code"},
	"col.priority":           {"Prioritet", "Приоритет", "Priority"},
	"col.category":           {"Kateqoriya", "Категория", "Category"},
	"col.lang":               {"Dil", "Язык", "Language"},
	"col.channel":            {"Kanal", "Канал", "Channel"},
	"col.age":                {"Müddət", "Давность", "Age"},
	"col.alert":              {"Xəbərdarlıq", "Оповещение", "Alert"},
	"col.acked":              {"Qəbul edib", "Принял", "Acknowledged by"},
	"col.state":              {"Vəziyyət", "Статус", "State"},
	"col.at":                 {"Vaxt", "Время", "Time"},
	"col.by":                 {"Kim", "Кто", "By"},
	"col.action":             {"Əməliyyat", "Действие", "Action"},
	"col.object":             {"Obyekt", "Объект", "Object"},
	"col.via":                {"Yol", "Канал", "Via"},
	"col.from":               {"Haradan", "Откуда", "From"},
	"col.name":               {"Ad", "Имя", "Name"},
	"col.role":               {"Rol", "Роль", "Role"},
	"col.phone":              {"Telefon", "Телефон", "Phone"},
	"col.login":              {"Giriş", "Вход", "Login"},
	"col.sessions":           {"Sessiyalar", "Сеансы", "Sessions"},
	"col.kind":               {"Növ", "Тип", "Kind"},
	"col.tries":              {"Cəhdlər", "Попытки", "Tries"},
	"col.error":              {"Xəta", "Ошибка", "Error"},
	"col.delivery":           {"Çatdırılma", "Доставка", "Delivery"},
	"case.title":             {"Müraciət", "Обращение", "Case"},
	"case.opened":            {"Açılıb", "Открыто", "Opened"},
	"case.timeline":          {"Mesajlar", "Сообщения", "Messages"},
	"case.in":                {"Müraciət edən", "Заявитель", "Reporter"},
	"case.out":               {"Cavab", "Ответ", "Reply"},
	"case.matched":           {"Triaj qaydaları", "Правила триажа", "Triage rules"},
	"case.alerts":            {"Xəbərdarlıqlar", "Оповещения", "Alerts"},
	"case.voicemail":         {"Səsli mesajlar", "Голосовые сообщения", "Voicemail"},
	"case.voicemail.missing": {"Səs hələ yüklənməyib", "Запись ещё не загружена", "Audio not downloaded yet"},
	"case.notes":             {"Qeydlər", "Заметки", "Notes"},
	"case.note.add":          {"Qeyd əlavə et", "Добавить заметку", "Add note"},
	"case.ack":               {"Qəbul et", "Принять", "Acknowledge"},
	"case.reply":             {"Müraciət edənə cavab", "Ответ заявителю", "Reply to the reporter"},
	"case.reply.hint":        {"Cavab qaynar xəttin nömrəsindən SMS ilə gedir. Nömrəni görməyəcəksiniz.", "Ответ уйдёт SMS с номера горячей линии. Номер вы не увидите.", "The reply goes as an SMS from the hotline number. You never see the reporter's number."},
	"case.reply.send":        {"Göndər", "Отправить", "Send"},
	"case.reply.late":        {"Diqqət: müraciət edənin son mesajı çoxdan gəlib. Gec gələn mesaj onu təhlükəyə ata bilər (telefonu başqasının əlində ola bilər).", "Внимание: последнее сообщение заявителя было давно. Позднее сообщение может подвергнуть его опасности (телефон может быть у другого человека).", "Warning: the reporter's last message is old. A late message can endanger the reporter (someone else may hold the phone now)."},
	"case.reply.confirm":     {"Riski başa düşürəm, yenə də göndər", "Я понимаю риск, всё равно отправить", "I understand the risk; send anyway"},
	"case.reply.needconfirm": {"Gec cavab üçün xəbərdarlığı təsdiq edin.", "Для позднего ответа подтвердите предупреждение.", "Confirm the warning to send a late reply."},
	"case.reply.queued":      {"Cavab növbəyə qoyuldu.", "Ответ поставлен в очередь.", "Reply queued."},
	"case.state.change":      {"Vəziyyəti dəyiş", "Изменить статус", "Change state"},
	"case.state.reason":      {"Bağlanma səbəbi", "Причина закрытия", "Reason for closing"},
	"case.closed.reason":     {"Bağlanıb, səbəb", "Закрыто, причина", "Closed, reason"},
	"case.acked":             {"Qəbul edildi.", "Принято.", "Acknowledged."},
	"case.noalert":           {"Açıq xəbərdarlıq yoxdur.", "Открытого оповещения нет.", "No open alert."},
	"case.history":           {"Tarixçə", "История", "History"},
	"state.new":              {"yeni", "новое", "new"},
	"state.acknowledged":     {"qəbul edilib", "принято", "acknowledged"},
	"state.in_progress":      {"icrada", "в работе", "in progress"},
	"state.referred":         {"yönləndirilib", "передано", "referred"},
	"state.closed":           {"bağlanıb", "закрыто", "closed"},
	"officers.title":         {"Əməkdaşlar", "Сотрудники", "Officers"},
	"officers.add":           {"Əməkdaş əlavə et", "Добавить сотрудника", "Add officer"},
	"officers.resettotp":     {"TOTP-ni sıfırla", "Сбросить TOTP", "Reset TOTP"},
	"officers.revoke":        {"Sessiyaları bitir", "Завершить сеансы", "End sessions"},
	"officers.nopassword":    {"parol yoxdur", "нет пароля", "no password"},
	"officers.totp":          {"TOTP", "TOTP", "TOTP"},
	"officers.nototp":        {"TOTP qeydiyyatı gözlənilir", "ожидает TOTP", "TOTP not enrolled"},
	"officers.passwdhint":    {"Parol serverdə təyin olunur: hotline officers passwd AD", "Пароль задаётся на сервере: hotline officers passwd ИМЯ", "Passwords are set on the server: hotline officers passwd NAME"},
	"officers.done":          {"Hazırdır.", "Готово.", "Done."},
	"rota.title":             {"Növbətçilik", "График дежурств", "Rota"},
	"rota.onduty":            {"İndi növbədə", "Сейчас дежурит", "On duty now"},
	"rota.hint":              {"Dəyişmək üçün: hotline rota set / import", "Изменить: hotline rota set / import", "To change it: hotline rota set / import"},
	"outbox.title":           {"Göndərilməyən mesajlar", "Неотправленные сообщения", "Dead letters"},
	"outbox.empty":           {"Göndərilməyən mesaj yoxdur.", "Неотправленных сообщений нет.", "No dead letters."},
	"outbox.retry":           {"Yenidən cəhd et", "Повторить", "Retry"},
	"audit.title":            {"Audit jurnalı", "Журнал аудита", "Audit log"},
	"audit.filter":           {"Süz", "Фильтр", "Filter"},
	"audit.since":            {"Tarixdən (YYYY-MM-DD)", "С даты (ГГГГ-ММ-ДД)", "Since (YYYY-MM-DD)"},
	"error.title":            {"Xəta", "Ошибка", "Error"},
	"error.forbidden":        {"Bu səhifə sizin rolunuz üçün deyil.", "Эта страница недоступна для вашей роли.", "This page is not for your role."},
	"error.csrf":             {"Forma köhnəlib. Səhifəni yeniləyib yenidən cəhd edin.", "Форма устарела. Обновите страницу и попробуйте снова.", "The form expired. Reload the page and try again."},
	"error.notfound":         {"Tapılmadı.", "Не найдено.", "Not found."},
	"error.method":           {"Bu əməliyyat burada mümkün deyil.", "Это действие здесь недоступно.", "That action is not allowed here."},
	"error.internal":         {"Daxili xəta (server jurnalına baxın).", "Внутренняя ошибка (см. журнал сервера).", "Internal error (see the server log)."},
	"error.invalid":          {"Məlumat düzgün deyil.", "Неверные данные.", "The form was not filled in correctly."},
	"error.conflict":         {"Bu artıq edilib.", "Это уже сделано.", "That was already done."},
	"back":                   {"Geri", "Назад", "Back"},
}
