# Русские сообщения (Fluent). Те же сообщения и переменные, что в английском.
# Message ids are the code's keys with '.' written as '-': error.not_found is error-not_found.

error-bad_json = Тело запроса — некорректный JSON: { $detail }
error-bad_field = Поле { $field } заполнено неверно: { $detail }
error-missing_field = Поле { $field } обязательно
error-body_too_large = Тело запроса больше { $limit } байт
error-unauthorized = Нужен действующий API-токен (Authorization: Bearer TOKEN)
error-bad_signature = Подпись вебхука отсутствует или неверна
error-forbidden = Вашей роли ({ $role }) это не разрешено
error-not_found = Не найдено
error-route_not_found = Такого адреса API нет
error-method_not_allowed = Этот адрес не принимает такой метод
error-conflict = Конфликт с существующими данными: { $detail }
error-invalid_state = Невозможно в текущем состоянии: { $detail }
error-internal = Внутренняя ошибка; она записана в журнал
error-unsupported_media_type = Тело нужно отправлять как { $expected }
error-channel_kind_mismatch = Этот канал не типа { $kind }
error-not_an_email = Тело запроса — не письмо (RFC 5322)
error-email_too_large = Письмо превышает ограничение канала ({ $field }): { $detail }
cli-token_created = Токен для { $name } ({ $role }) в рабочем пространстве { $workspace }:
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
