# Русские сообщения (Fluent). Те же сообщения и переменные, что в английском.
# Message ids are the code's keys with '.' written as '-': error.not_found is error-not_found.

error-bad_request = Некорректный запрос: { $detail }
error-bad_json = Тело запроса — некорректный JSON: { $detail }
error-bad_field = Поле { $field } заполнено неверно: { $detail }
error-missing_field = Поле { $field } обязательно
error-body_too_large = Тело запроса больше { $limit } байт
error-unauthorized = Нужен действующий API-токен (Authorization: Bearer TOKEN)
error-bad_signature = Подпись вебхука отсутствует или неверна
error-forbidden = Вашей роли ({ $role }) это не разрешено
error-cross_site_request = Это изменение должно приходить со страницы самого Switchboard (межсайтовый запрос отклонён)
error-sign_in_busy = Сейчас проверяется слишком много входов; повторите через минуту
error-not_found = Не найдено
error-route_not_found = Такого адреса API нет
error-method_not_allowed = Этот адрес не принимает такой метод
error-conflict = Конфликт с существующими данными: { $detail }
error-invalid_state = Невозможно в текущем состоянии: { $detail }
error-internal = Внутренняя ошибка; она записана в журнал
error-storage_full = Хранилище сервера заполнено; ничего не сохранено. Повторите, когда место освободится
error-storage_unavailable = База данных сейчас не принимает изменения; ничего не сохранено. Повторите позже
error-not_ready = База данных не отвечает; повторите чуть позже
error-config_too_large = Настройки канала занимают { $size } байт; допускается не более { $limit }
error-unsupported_media_type = Тело нужно отправлять как { $expected }
error-channel_kind_mismatch = Этот канал не типа { $kind }
error-not_an_email = Тело запроса — не письмо (RFC 5322)
error-email_too_large = Письмо превышает ограничение канала ({ $field }): { $detail }
error-destination_not_allowed = Поле { $field } указывает на адрес, к которому сервер не подключается: { $class ->
        [loopback] этот компьютер (loopback), закрыто настройкой сервера outbound.allow_private_networks
        [private] частная сеть, закрыта настройкой сервера outbound.allow_private_networks
        [link-local] link-local адрес, где отвечают сервисы метаданных облака
        [metadata] сервис метаданных облака
       *[other] адрес, на который запросы не отправляются
    }
cli-token_created = Токен для { $name } ({ $role }) в рабочем пространстве { $workspace }:
cli-account_created = Учётная запись { $email } ({ $role }) создана в рабочем пространстве { $workspace }.
cli-password_needed = Задайте пароль в переменной окружения SWITCHBOARD_PASSWORD.
cli-workspace_created = Рабочее пространство { $slug } создано.
cli-migrated = База данных актуальна ({ $count ->
        [one] применена { $count } миграция
        [few] применено { $count } миграции
       *[many] применено { $count } миграций
    }).
cli-demo_done = Демо-данные созданы в пространстве { $workspace }: { $conversations ->
        [one] { $conversations } обращение
        [few] { $conversations } обращения
       *[many] { $conversations } обращений
    }.
cli-listening = Switchboard слушает http://{ $addr }
cli-unknown_workspace = Рабочего пространства { $slug } нет
email-acknowledgement =
    Здравствуйте!

    Мы получили ваше письмо и открыли обращение №{ $number }. Ответим, как только сможем. Чтобы что-то добавить, просто ответьте на это письмо.

    Это автоматическое сообщение.

## The agent workspace (crates/ui)
ui-skip_to_content = Перейти к содержимому
ui-navigation = Главное меню
ui-inbox = Входящие
ui-account = Профиль
ui-colleagues_online = Коллеги в сети
ui-sign_out = Выйти
ui-sign_in = Войти
ui-email = Эл. почта
ui-password = Пароль
ui-name = Имя
ui-login_failed = Неверная почта или пароль.
ui-login_throttled = Слишком много неудачных попыток. Повторите через { $minutes ->
        [one] { $minutes } минуту
        [few] { $minutes } минуты
        [many] { $minutes } минут
       *[other] { $minutes } минуты
    }.
ui-setup_title = Создание первого администратора
ui-setup_intro = Эта одноразовая ссылка создаёт администратора этого Switchboard. Укажите имя, почту и пароль.
ui-new_password = Новый пароль
ui-current_password = Текущий пароль
ui-password_rule = Не короче 10 символов.
ui-password_wrong = Текущий пароль неверен.
ui-name_and_email_needed = Нужны имя и действительный адрес почты.
ui-create_admin = Создать администратора и войти
ui-setup_link_used = Эта ссылка больше не действует. Перезапустите сервер, чтобы получить новую.
ui-error_title = Что-то пошло не так
ui-back_to_inbox = Вернуться во входящие
ui-saved = Сохранено.
ui-preferences = Настройки
ui-language = Язык
ui-language_browser = Как в браузере
ui-notify_desktop = Уведомления браузера
ui-notify_sound = Звук о новых обращениях и ответах
ui-save = Сохранить
ui-change_password = Сменить пароль
ui-signed_in_as = Вы вошли как
ui-views = Представления
ui-view-mine = Мои
ui-view-unassigned = Без исполнителя
ui-view-teams = Мои команды
ui-view-bot = Бот
ui-view-all = Все
ui-by_status = По статусу
ui-by_channel = По последнему каналу клиента (нерешённые)
ui-status = Статус
ui-status-unsolved = Нерешённые
ui-status-any = Любой статус
ui-status-new = Новое
ui-status-open = Открыто
ui-status-pending = Ждёт клиента
ui-status-on_hold = Отложено
ui-status-solved = Решено
ui-status-closed = Закрыто
ui-priority = Приоритет
ui-priority-low = Низкий
ui-priority-normal = Обычный
ui-priority-high = Высокий
ui-priority-urgent = Срочный
ui-conversations_count = { $count ->
        [one] { $count } обращение
        [few] { $count } обращения
        [many] { $count } обращений
       *[other] { $count } обращения
    }
ui-duration-minutes = { $count ->
        [one] { $count } минуту
        [few] { $count } минуты
        [many] { $count } минут
       *[other] { $count } минуты
    }
ui-duration-hours = { $count ->
        [one] { $count } час
        [few] { $count } часа
        [many] { $count } часов
       *[other] { $count } часа
    }
ui-duration-days = { $count ->
        [one] { $count } день
        [few] { $count } дня
        [many] { $count } дней
       *[other] { $count } дня
    }
ui-waiting_now = ждёт меньше минуты
ui-waiting_for = ждёт { $duration }
ui-inbox_empty = Здесь пусто. Отличная работа.
ui-inbox_keys = Клавиши: j/k — переход, Enter — открыть, / — поиск, r — ответ, n — заметка, e — решено.
ui-older = Более ранние обращения
ui-search = Поиск
ui-search_hint = Слова в темах и сообщениях
ui-channel = Последний канал
ui-any = Любой
ui-assignee = Исполнитель
ui-nobody = Никто
ui-team = Команда
ui-tag = Метка
ui-tags = Метки (через запятую)
ui-required_skills = Нужные навыки (через запятую)
ui-required_skills_help = Автоматически её получат только агенты со всеми этими навыками.
ui-sort = Порядок
ui-sort_waiting = Дольше всех ждут — сверху
ui-sort_recent = Последние изменения — сверху
ui-apply = Применить
ui-clear_filters = Сбросить фильтры
ui-no_subject = (без темы)
ui-timeline = Хронология
ui-agent = Оператор
ui-customer = Клиент
ui-automatic = автоматическое
ui-quoted = Предыдущие письма
ui-direction-in = получено
ui-direction-out = отправлено
ui-direction-note = внутренняя заметка
ui-direction-system = система
ui-delivery-queued = в очереди
ui-delivery-sent = отправлено
ui-delivery-delivered = доставлено
ui-delivery-failed = не доставлено
ui-channel-api = API
ui-channel-email = Почта
ui-channel-telegram = Telegram
ui-channel-whatsapp = WhatsApp
ui-channel-vk = ВКонтакте
ui-channel-viber = Viber
ui-channel-twilio_sms = SMS
ui-channel-twilio_voice = Телефон
ui-channel-widget = Чат на сайте
ui-event-created = Обращение начато
ui-event-channel = Начато в канале { $channel }
ui-event-continued = Продолжено в канале { $channel } после канала { $previous }
ui-event-status = { $who }: статус «{ $status }»
ui-event-priority = { $who }: приоритет «{ $priority }»
ui-event-assignee = { $who } назначил(а) исполнителя: { $agent }
ui-event-team = { $who } передал(а) команде { $team }
ui-event-tags = { $who } изменил(а) метки: { $tags }
ui-event-required_skills = { $who } изменил(а) нужные навыки: { $skills }
ui-event-merged = { $who } объединил(а) клиента с другим профилем
ui-event-unmerged = { $who } отменил(а) объединение клиента
ui-event-participant = В копию добавлен участник
ui-event-delivery_failed = Не доставлено: { $reason }
ui-event-delivery_delayed = Доставка задерживается: { $reason }
ui-event-auto_suppressed = Автоответ не отправлен (слишком много за час)
ui-read_only = Ваша роль позволяет читать это обращение, но не отвечать.
ui-compose_kind = Ответ или внутренняя заметка
ui-reply = Ответ клиенту
ui-note = Внутренняя заметка
ui-send_on = Отправить через
ui-message = Сообщение
ui-reply_hint = Напишите ответ или заметку с @имя, чтобы позвать коллегу
ui-attach = Приложить файлы
ui-send = Отправить
ui-details = Параметры
ui-solve = Решено
ui-verified = Подтверждено каналом
ui-conversations = Обращения
ui-all_of_customer = Все обращения этого клиента
ui-live-viewing = { $name } просматривает
ui-live-typing = { $name } пишет ответ
ui-live-new_conversation = Новое обращение
ui-live-new_reply = Новый ответ клиента
ui-live-mentioned = { $name } упомянул(а) вас
ui-live-reconnecting = Переподключение…
ui-live-failed = Не отправлено
ui-presence-online = в сети
ui-presence-away = отошёл
ui-presence-offline = не в сети

ui-admin-title = Администрирование
ui-admin-people = Сотрудники
ui-admin-teams = Команды
ui-admin-channels = Каналы
ui-admin-canned = Шаблоны ответов
ui-admin-tokens = API-токены
ui-admin-settings = Настройки
ui-admin-role = Роль
ui-admin-actions = Действия
ui-admin-state = Состояние
ui-admin-active = Активен
ui-admin-deactivated = Отключён
ui-admin-invited = Приглашён, пароль не задан
ui-admin-invite = Пригласить
ui-admin-invite_link = Ссылка-приглашение
ui-admin-invited_link = Отправьте эту одноразовую ссылку: { $name }; она действует 7 дней.
ui-admin-new_team = Новая команда
ui-admin-routing = Навыки и языки
ui-admin-routing_help = Распределение отдаёт разговор только агенту, у которого есть все нужные навыки и который, если указал языки, говорит на языке клиента.
ui-admin-skills = Навыки (через запятую)
ui-admin-languages = Языки
ui-admin-assignment = Распределение
ui-admin-assignment_method = Способ
ui-admin-method-manual = Вручную
ui-admin-method-round_robin = По кругу (кому давно не давали)
ui-admin-method-least_loaded = Наименее загруженному
ui-admin-only_online = Только агентам в сети
ui-admin-capacity_help = Сколько открытых разговоров одного вида канала может быть у агента (пусто: без ограничения).
ui-admin-capacity_of = Лимит: { $kind }
ui-admin-create = Создать
ui-admin-delete = Удалить
ui-admin-kind = Тип
ui-admin-webhook_url = URL вебхука
ui-admin-secret = Секрет подписи
ui-admin-secret_hint = Провайдер подписывает этим секретом всё, что отправляет на URL вебхука (X-Switchboard-Signature для API и почты); храните его в тайне.
ui-admin-created = Создан
ui-admin-new_channel = Новый канал
ui-admin-config = Конфигурация (JSON)
ui-admin-config_hint = Введённые здесь секреты сохраняются и никогда не показываются через API. Ключи каждого типа — в примерах ниже.
ui-admin-examples = Примеры для каждого типа
ui-admin-secrets_kept = Пароли и токены не показываются: не указывайте их, чтобы сохранить прежние, или введите новые.
ui-admin-configure = Настроить
ui-admin-test = Проверить подключение
ui-admin-test_ok = Подключение работает.
ui-admin-test_failed = Подключение не удалось:
ui-admin-check_timed_out = нет ответа за { $seconds } с
ui-admin-placeholders = Подстановки:
ui-admin-title_field = Название
ui-admin-body = Текст
ui-admin-new_canned = Новый шаблон
ui-admin-revoke = Отозвать
ui-admin-revoked = Отозван
ui-admin-new_token = Новый токен
ui-admin-token_once = Новый токен, показывается только сейчас:
ui-admin-continuity = Окно продолжения (часы)
ui-admin-continuity_hint = Если клиент пишет снова в течение этого времени, в любом канале, продолжается его открытое обращение.
ui-admin-reopen = Окно переоткрытия (часы)
ui-admin-reopen_hint = Решённое обращение открывается снова, если клиент пишет в течение этого времени; позже начинается новое.
ui-role-admin = Администратор
ui-role-supervisor = Руководитель
ui-role-agent = Оператор
ui-role-viewer = Наблюдатель
ui-attributes = Атрибуты (по одному «название: значение» в строке)
ui-customer_notes = Заметки о клиенте
ui-edit_customer = Изменить клиента
ui-customer_merged = Профили объединены.
ui-undo = Отменить
ui-merge = Объединить
ui-not_same_person = Это другой человек
ui-merge_suggestions = Возможно, тот же человек
ui-same_person = { $name } (общее: { $detail })
ui-canned = Шаблон ответа
ui-insert = Вставить
ui-invite_title = Вход в Switchboard
ui-invite_intro = Вас пригласили как { $name } ({ $email }). Задайте пароль.
ui-invite_accept = Задать пароль и войти
ui-invite_gone = Это приглашение больше не действует (использовано, истекло или отозвано). Попросите администратора прислать новое.
ui-notifications = Уведомления
ui-mark_all_read = Отметить все как прочитанные
ui-no_notifications = Пока ничего. Когда коллега упомянет вас в заметке, это появится здесь.
ui-notification-mention = { $name } упомянул(а) вас в #{ $number }
ui-formatted = С оформлением
ui-remote_images_blocked = Внешние изображения заблокированы (по ним отправитель может узнать, что письмо открыли).
ui-load_remote_images = Открыть с внешними изображениями
ui-edited = изменено
ui-reactions = Реакции
ui-event-edited = Клиент изменил сообщение; прежний текст: { $text }
ui-admin-register_webhook = Зарегистрировать вебхук у провайдера
ui-admin-registered = Зарегистрировано:
ui-admin-register_failed = Регистрация не удалась:
ui-admin-webhooks = Вебхуки
ui-admin-webhooks_hint = Switchboard отправляет выбранные события на каждый URL в формате JSON с подписью по спецификации Standard Webhooks (заголовки webhook-id, webhook-timestamp и webhook-signature: HMAC-SHA256 с секретом whsec_). Неудавшаяся доставка повторяется в течение 24 часов; webhook-id одинаков во всех попытках и при повторной отправке, так что получатель может отбросить дубликаты. Адрес, ответивший 410 Gone или не принимавший доставки 5 дней, отключается.
ui-admin-new_webhook = Новый вебхук
ui-admin-url = URL
ui-admin-description = Описание
ui-admin-events = События
ui-admin-all_events = Все события, в том числе добавленные позже
ui-admin-enabled = Включён
ui-admin-webhook_on = Включён
ui-admin-webhook_off = Выключен
ui-admin-webhook_gone = Выключен: адрес ответил 410 Gone
ui-admin-webhook_failing = Выключен: все попытки не удавались 5 дней
ui-admin-last_success = Последняя успешная доставка
ui-admin-failing_since = Ошибки с
ui-admin-webhook_secret_once = Секрет подписи, показывается только один раз:
ui-admin-previous_secret_until = Прежний секрет тоже подписывает до
ui-admin-send_test = Отправить тестовое событие
ui-admin-test_sent = Тестовое событие отправляется; оно появится в журнале ниже.
ui-admin-rotate_secret = Сменить секрет
ui-admin-deliveries = Доставки
ui-admin-no_deliveries = Доставок пока нет.
ui-admin-at = Время
ui-admin-event = Событие
ui-admin-event_id = Идентификатор события (заголовок webhook-id)
ui-admin-attempts = Попытки
ui-admin-http_status = HTTP-статус
ui-admin-response = Ответ
ui-admin-replay = Отправить снова
ui-admin-replayed = Отправлено снова как новая доставка с тем же webhook-id.
ui-admin-older = Более ранние доставки
ui-admin-next_attempt = следующая попытка
ui-webhook_status-pending = Ожидает
ui-webhook_status-delivered = Доставлено
ui-webhook_status-failed = Не доставлено
ui-webhook_event-conversation-created = начат диалог
ui-webhook_event-conversation-updated = изменились статус, приоритет, исполнитель, команда или теги
ui-webhook_event-conversation-assigned = сменился исполнитель
ui-webhook_event-message-received = пишет клиент
ui-webhook_event-message-sent = отправлен ответ (оператора, бота или автоматический)
ui-webhook_event-note-created = добавлена внутренняя заметка
ui-webhook_event-contact-created = новый клиент
ui-webhook_event-contact-merged = два клиента объединены
ui-webhook_event-sla-warning = приближается срок SLA
ui-webhook_event-sla-breached = срок SLA нарушен

## The web chat widget and its events
error-origin_not_allowed = Этому сайту нельзя использовать виджет чата (его origin нет в allowed_origins канала)
error-visitor_unknown = Сеанс чата не найден или истёк; начните чат заново
error-visitor_expired = Сеанс чата истёк; начните чат заново
error-identity_not_verified = Не удалось подтвердить вошедшего пользователя: { $detail }
error-widget_misconfigured = Виджет чата настроен неверно: { $detail }
widget-title = Напишите нам
widget-open = Открыть чат
widget-close = Закрыть чат
widget-greeting = Здравствуйте! Спросите нас о чём угодно — мы поможем.
widget-name = Ваше имя
widget-email = Email (необязательно)
widget-email_hint = Если вы уйдёте, мы ответим на почту.
widget-start = Начать чат
widget-placeholder = Напишите сообщение…
widget-send = Отправить
widget-attach = Прикрепить файл
widget-you = Вы
widget-agent = Поддержка
widget-typing = { $name } печатает…
widget-online = Мы на связи
widget-offline = Сейчас нас нет на месте
widget-reply_time = { $minutes ->
    [one] Обычно мы отвечаем примерно за { $minutes } минуту
    [few] Обычно мы отвечаем примерно за { $minutes } минуты
   *[other] Обычно мы отвечаем примерно за { $minutes } минут
}
widget-reply_soon = Мы ответим, как только сможем
widget-csat_question = Как мы справились?
widget-csat_comment = Хотите что-то добавить? (необязательно)
widget-csat_send = Отправить оценку
widget-csat_thanks = Спасибо за оценку!
widget-failed = Не отправлено
widget-retry = Повторить
widget-reconnecting = Восстанавливаем связь…
widget-new_message = Новое сообщение
widget-file_too_large = Файл слишком большой
ui-event-csat = Клиент оценил обращение на { $rating }/5: { $comment }
ui-event-csat_plain = Клиент оценил обращение на { $rating }/5
ui-event-emailed = Посетитель ушёл: ответ отправлен на почту { $to }
ui-customer_typing = Клиент печатает…
ui-admin-embed = Код для вставки
error-too_many_messages = Слишком много сообщений; попробуйте через { $seconds } с

## Объединение и разделение обращений
error-merge_into_itself = Обращение нельзя объединить с самим собой
error-different_customer = Эти обращения принадлежат разным клиентам; если это один человек, сначала объедините клиентов
error-other_merged = То обращение уже объединено с другим
error-merged_away = Это обращение объединено с другим; объединяйте с тем
error-conversation_closed = Закрытое обращение окончательно: в него нельзя перенести сообщения и из него нельзя их забрать
error-merge_already_undone = Это объединение уже отменено
error-merge_changed_since = После объединения что-то изменилось, и отменить его точно нельзя (обращение снова объединили или из него выделили сообщения); сначала отмените или верните это
error-not_a_customer_message = Отдельным обращением может стать только сообщение клиента
error-split_takes_everything = Так из обращения ушли бы все сообщения, и в нём ничего бы не осталось
error-split_leaves_no_customer_message = Так в обращении не осталось бы ни одного сообщения клиента
error-conversations_merged_since = С тех пор обращение одного из этих клиентов объединили с обращением другого; сначала отмените это объединение обращений
ui-merge_into_this = Объединить с этим обращением…
ui-merge_which = Какое обращение перенести сюда
ui-merge_hint = Его сообщения, каналы и участники перейдут сюда, а само оно закроется; объединение можно отменить.
ui-merge_conversation = Объединить с этим обращением
ui-merged_into = Это обращение объединено с { $conversation }.
ui-event-merged_from = { $conversation } объединено с этим обращением ({ $who })
ui-event-merged_into = Объединено с { $conversation } ({ $who })
ui-event-unmerged_from = { $who } отменил(а) объединение с { $conversation }
ui-event-unmerged_into = { $who } отменил(а) объединение с { $conversation }
ui-event-split_into = Выделено в новое обращение { $conversation } ({ $who })
ui-event-split_from = Выделено из { $conversation } ({ $who })
ui-split_menu = Выделить…
ui-split_with_later = вместе со всеми последующими сообщениями
ui-split = Выделить в новое обращение
bot-did_it_help = Это помогло? Ответьте «да» или «нет».
bot-glad = Рады, что помогло! Пишите, если будут вопросы.
bot-handing_over = Передаю ваш вопрос команде поддержки, оператор ответит вам здесь.
bot-note_not_helpful = Клиент ответил, что ответ бота не помог.
bot-note_handed_over = Бот передал разговор операторам. Вопрос: «{ $question }». Причина: { $reason }.
bot-reason-answered = дан ответ
bot-reason-no_match = ни одна статья не отвечает на вопрос
bot-reason-low_confidence = лучшая статья подходит недостаточно точно
bot-reason-asks_for_person = клиент попросил оператора
bot-reason-empty_question = в сообщении нет слов, на которые можно ответить
bot-reason-draft = лучшая статья — черновик
bot-reason-stale = у лучшей статьи прошёл срок проверки
bot-reason-missing = у лучшей статьи нет ответа на этом языке для этого канала
bot-reason-outdated = перевод лучшей статьи старше изменения на другом языке
bot-reason-agent_only = лучшая статья только для операторов
help-title = Центр помощи
help-description = Ответы { $workspace }: инструкции, правила и решения на вашем языке.
help-skip = Перейти к содержимому
help-languages = Языки
help-search = Поиск по центру помощи
help-search_button = Найти
help-search_results = Результаты поиска
help-results_for = { $count ->
    [one] { $count } статья по запросу «{ $q }»
    [few] { $count } статьи по запросу «{ $q }»
   *[many] { $count } статей по запросу «{ $q }»
}
help-no_results = Ничего не найдено. Попробуйте другие слова или напишите нам.
help-empty = Статей пока нет.
help-other_articles = Другие статьи
help-still_need_help = Не нашли ответ?
help-chat_with_us = Написать в чат
help-write_to_us = Напишите нам:
help-no_contact = Ответьте на любое наше сообщение.
help-updated = Обновлено
help-breadcrumbs = Вы здесь
help-not_found = Такой страницы нет
cli-reindexed = Поисковый индекс перестроен: документов { $documents }, { $seconds } с
cli-reindex_failed = Не удалось перестроить поисковый индекс: { $error } (его держит работающий сервер: сначала остановите сервер)
ui-kb-title = База знаний
ui-kb-all = Все статьи
ui-kb-review_due = Нужна проверка
ui-kb-new = Новая статья
ui-kb-none = Здесь нет статей.
ui-kb-article = Статья
ui-kb-version = Версия
ui-kb-versions = Версии
ui-kb-languages = Языки
ui-kb-bot_answers = Ответы бота · без оператора
ui-kb-updated = Изменена
ui-kb-stale = просрочена
ui-kb-outdated = устарел перевод
ui-kb-outdated_hint = Старше изменения на другом языке: бот и центр помощи не покажут её, пока её не обновят или не подтвердят.
ui-kb-confirm = Текст по-прежнему верен: подтвердить
ui-kb-review_by = Проверить до
ui-kb-category = Раздел
ui-kb-tags = Метки (через запятую)
ui-kb-questions = Как клиенты спрашивают
ui-kb-questions_hint = Как клиенты спрашивают, по одному на строку
ui-kb-edit = Изменить
ui-kb-field_title = заголовок
ui-kb-field_body = текст (Markdown)
ui-kb-status-draft = Черновик
ui-kb-status-published = Опубликована
ui-kb-kind-web = Центр помощи
ui-kb-kind-short = Ответ в чат
ui-kb-kind-spoken = Для голоса (телефон)
ui-kb-kind-agent = Для операторов
ui-kb-deflection = Ответы бота за 30 дней
ui-kb-deflection_summary = ответов: { $answered }, без оператора: { $deflected }, в пределах 72 часов: { $pending }
ui-kb-rate = доля без оператора
ui-kb-suggested = Подходящие статьи
ui-kb-no_suggestions = Ни одна статья не подходит к сообщениям клиента.
bot-yes = Да
bot-no = Нет

# Routing, SLA and automation
ui-admin-rules = Правила
ui-admin-sla = SLA
ui-rules-intro = Правила выполняются в этом порядке при каждом изменении, внутри самого изменения; каждое — не больше одного раза. Правила по времени срабатывают в момент, когда условие становится истинным.
ui-rules-new = Новое правило
ui-rules-none = Правил пока нет.
ui-rules-name = Название
ui-rules-when = Когда
ui-rules-state = Состояние
ui-rules-on = вкл.
ui-rules-off = выкл.
ui-rules-conditions = Условия
ui-rules-match = Совпадение
ui-rules-match_all = все условия
ui-rules-match_any = любое из условий
ui-rules-field_n = Поле { $n }
ui-rules-op_n = Оператор { $n }
ui-rules-value_n = Значение { $n }
ui-rules-action_n = Действие { $n }
ui-rules-values_hint = Списки — через запятую; слова совпадают во всех формах. Команда и сотрудник — по имени; «none» — никто. Часы могут быть дробными.
ui-rules-json = Дополнительно: условия в JSON (вложенные группы)
ui-rules-json_hint = Если заполнено, заменяет строки выше.
ui-rules-actions = Действия
ui-rules-enabled = Включено
ui-rules-dry_run = Пробный прогон
ui-rules-dry_run_result = Пробный прогон
ui-rules-dry_run_summary = Совпало бы с { $matched } из последних { $examined } обращений.
ui-rules-would_do = Сделало бы
ui-rules-refused = Не сохранено:
ui-subject = Тема
ui-rules-trigger-message_received = Пришло сообщение клиента
ui-rules-trigger-conversation_created = Создано обращение
ui-rules-trigger-conversation_updated = Обращение изменено
ui-rules-trigger-time = По времени
ui-rules-trigger-sla_warning = Предупреждение SLA
ui-rules-trigger-sla_breached = Нарушение SLA
ui-rules-field-text = Текст сообщения
ui-rules-field-subject = Тема
ui-rules-field-language = Язык
ui-rules-field-channel_kind = Тип канала
ui-rules-field-status = Статус
ui-rules-field-priority = Приоритет
ui-rules-field-tags = Метки
ui-rules-field-team = Команда
ui-rules-field-assignee = Исполнитель
ui-rules-field-customer_plan = Клиент: тариф
ui-rules-field-hours_since_created = Часов с создания
ui-rules-field-hours_since_customer_message = Часов с сообщения клиента
ui-rules-field-escalation_risk = Риск эскалации
ui-rules-field-channel_id = Id канала
ui-rules-op-contains_any = содержит любое из
ui-rules-op-contains_none = не содержит ни одного из
ui-rules-op-is = равно
ui-rules-op-is_not = не равно
ui-rules-op-gt = больше
ui-rules-op-lt = меньше
ui-rules-action-set_team = Назначить команду
ui-rules-action-assign = Распределить по правилу команды
ui-rules-action-set_assignee = Назначить исполнителя
ui-rules-action-set_priority = Задать приоритет
ui-rules-action-add_tags = Добавить метки
ui-rules-action-remove_tags = Убрать метки
ui-rules-action-set_status = Задать статус
ui-rules-action-set_skills = Требовать навыки (через запятую)
ui-rules-action-reply = Ответить клиенту
ui-rules-action-note = Добавить заметку
ui-rules-action-webhook = Вызвать вебхук
ui-sla-intro = Применяется первая политика, условия которой совпали. Часы считают рабочее время календаря от времени сообщения клиента; решение ставится на паузу, пока ждём клиента.
ui-sla-policies = Политики SLA
ui-sla-no_policies = Политик SLA пока нет.
ui-sla-new_policy = Новая политика SLA
ui-sla-first_response = Первый ответ
ui-sla-next_response = Следующий ответ
ui-sla-resolution = Решение
ui-sla-warn_before = Предупредить за
ui-sla-in_minutes = минут
ui-sla-minutes = { $n } мин
ui-sla-calendar = Календарь
ui-sla-always = Круглосуточно (UTC)
ui-sla-conditions = Условия (JSON, как в правилах; пусто — все обращения)
ui-sla-calendars = Рабочие календари
ui-sla-new_calendar = Новый календарь
ui-sla-time_zone = Часовой пояс (IANA)
ui-sla-hours_hint = Часы по дням: 09:00-13:00, 14:00-18:00; 22:00-02:00 переходит через полночь; пусто — выходной.
ui-sla-holidays = Праздники
ui-sla-working_days = Рабочие выходные (переносы)

ui-policy = Политика контактов
ui-policy-sales = Продажи
ui-policy-marketing = Маркетинг
ui-policy-service = Обслуживание
ui-policy-decision-allow = Можно
ui-policy-decision-caution = С осторожностью
ui-policy-decision-deny = Не связываться
ui-policy-reason-open_complaint = Открытая жалоба #{ $number } ({ $tag })
ui-policy-reason-open_high_priority = Обращение #{ $number } открыто, приоритет: { $priority }
ui-policy-reason-opted_out_purpose = Отказ: { $purpose }
ui-policy-reason-opted_out_channel = Отказ: { $channel } (продажи и маркетинг)
ui-policy-reason-opted_out_both = Отказ: { $purpose }, канал { $channel }
ui-policy-reason-quiet_hours = У клиента тихие часы до { $until }
ui-policy-reason-recent_complaint = Жалоба #{ $number } завершена { $date }; осторожно до { $until }
ui-policy-reason-low_rating = Оценка обращения #{ $number }: { $rating }/5, { $date }
ui-policy-reason-opt_out_unreadable = Непонятный отказ: { $value }
ui-policy-local_time = Время клиента: { $time } ({ $zone })
ui-policy-zone_default = часовой пояс по умолчанию
ui-policy-hint = Отказы клиента и его часовой пояс — атрибуты opt_out (например, «marketing, sms, sales:phone») и time_zone (например, Europe/Moscow).
ui-admin-policy_intro = Что отвечать CRM и автодозвону на вопрос, можно ли связаться с клиентом ради продаж или маркетинга (GET /api/v1/contacts/{"{"}id{"}"}/contact-policy). Открытые жалобы и обращения с высоким приоритетом всегда означают «нет»; остальное настраивается здесь.
ui-admin-policy_complaint_tags = Теги, которые делают обращение жалобой (через запятую)
ui-admin-policy_complaint_days = Осторожность после завершения жалобы (дней; 0 — нет)
ui-admin-policy_low_rating_max = Какие оценки считать низкими
ui-admin-policy_low_rating_days = Осторожность после низкой оценки (дней; 0 — нет)
ui-admin-policy_quiet = Тихие часы: никаких продаж и маркетинга ночью по времени клиента
ui-admin-policy_quiet_start = Тихо с
ui-admin-policy_quiet_end = Тихо до
ui-admin-policy_quiet_days = Тихо весь день
ui-admin-policy_exempt = Каналы, на которые тихие часы не распространяются
ui-admin-policy_time_zone = Часовой пояс клиентов без своего (IANA, например Europe/Moscow)
ui-sla-due_in = { $metric }: осталось { $duration }
ui-sla-overdue = { $metric }: просрочено
ui-sla-metric-first_response = Первый ответ
ui-sla-metric-next_response = Следующий ответ
ui-sla-metric-resolution = Решение
ui-view-risk = Под угрозой
ui-risk-watch = Внимание
ui-risk-high = Под угрозой
ui-sort_risk = Сначала риск эскалации
ui-risk-reason-channels = { $count } канала за { $hours } ч без ответа
ui-risk-reason-messages = { $count } сообщений за { $hours } ч без ответа
ui-risk-reason-public = публичный пост
ui-rules-action_value_n = Значение действия { $n }
ui-day-mon = Понедельник
ui-day-tue = Вторник
ui-day-wed = Среда
ui-day-thu = Четверг
ui-day-fri = Пятница
ui-day-sat = Суббота
ui-day-sun = Воскресенье

# Macros
ui-admin-macros = Макросы
ui-macros-intro = Макрос — набор действий и ответ, которые агент применяет к обращению одним нажатием: статус, приоритет, теги или команда, назначение, заметка и ответ клиенту. Самые используемые идут первыми в списке на странице обращения.
ui-macros-name = Название макроса
ui-macros-reply = Ответ клиенту (необязательно)
ui-macros-new = Новый макрос
ui-macros-none = Макросов пока нет.
ui-macros-applied = Применён
ui-macros-refused = Не сохранено:
ui-macros-apply_label = Макрос
ui-macros-apply = Применить макрос
ui-event-macro_applied = { $who } применил(а) макрос «{ $name }»
# Публичные упоминания (посты через API-каналы с пометкой public)
ui-rules-trigger-mention_received = Пришёл публичный пост (упоминание)
ui-rules-field-author = Автор поста (ник или имя)
ui-rules-field-known_customer = Автор — известный клиент (true или false)
ui-rules-action-notify = Оповестить агентов (команда по названию или «none» — всех)
ui-rules-action-open_conversation = Открыть обращение из поста
ui-rules-dry_run_mentions = Совпало бы с { $matched } из последних { $examined } публичных постов.
ui-mentions-title = Упоминания
ui-mentions-intro = Публичные посты о бренде (соцсети, форумы) через API-каналы с пометкой public. Они остаются здесь, вне входящих, пока правило или агент не откроет обращение.
ui-mentions-filter = Упоминания по статусу
ui-mentions-all = Все
ui-mentions-status-new = Новые
ui-mentions-status-reviewed = Просмотренные
ui-mentions-status-dismissed = Отклонённые
ui-mentions-none = Здесь нет публичных постов.
ui-mentions-source = Открыть пост
ui-mentions-known_customer = Известный клиент:
ui-mentions-conversation = Обращение #{ $number }
ui-mentions-open_conversation = Открыть обращение
ui-mentions-mark_reviewed = Отметить просмотренным
ui-mentions-dismiss = Отклонить
ui-mentions-older = Более ранние посты
ui-mentions-author = Автор
ui-mentions-text = Пост
ui-mentions-of_customer = Публичные посты
ui-mentions-all_of_customer = Все публичные посты клиента
ui-notification-public_mention = Публичный пост подошёл под правило мониторинга
