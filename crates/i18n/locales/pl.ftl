# Polskie komunikaty (Fluent). Te same komunikaty i zmienne co w angielskim.
# Message ids are the code's keys with '.' written as '-': error.not_found is error-not_found.

error-bad_json = Treść żądania nie jest poprawnym JSON-em: { $detail }
error-bad_field = Pole { $field } jest niepoprawne: { $detail }
error-missing_field = Pole { $field } jest wymagane
error-body_too_large = Treść żądania przekracza { $limit } bajtów
error-unauthorized = Wymagany jest ważny token API (Authorization: Bearer TOKEN)
error-bad_signature = Brak podpisu webhooka albo jest błędny
error-forbidden = Twoja rola ({ $role }) nie pozwala na to
error-not_found = Nie znaleziono
error-route_not_found = Nie ma takiego adresu API
error-method_not_allowed = Ten adres nie przyjmuje tej metody
error-conflict = Konflikt z istniejącymi danymi: { $detail }
error-invalid_state = Niemożliwe w obecnym stanie: { $detail }
error-internal = Błąd po naszej stronie; został zapisany w dzienniku
error-unsupported_media_type = Treść trzeba wysłać jako { $expected }
error-channel_kind_mismatch = Ten kanał nie jest rodzaju { $kind }
error-not_an_email = Treść żądania nie jest wiadomością e-mail (RFC 5322)
error-email_too_large = Wiadomość przekracza limit kanału ({ $field }): { $detail }
cli-token_created = Token dla { $name } ({ $role }) w przestrzeni { $workspace }:
cli-workspace_created = Przestrzeń { $slug } utworzona.
cli-migrated = Baza danych jest aktualna ({ $count ->
        [one] zastosowano { $count } migrację
        [few] zastosowano { $count } migracje
       *[many] zastosowano { $count } migracji
    }).
cli-demo_done = Dane demonstracyjne utworzone w przestrzeni { $workspace }: { $conversations ->
        [one] { $conversations } rozmowa
        [few] { $conversations } rozmowy
       *[many] { $conversations } rozmów
    }.
cli-listening = Switchboard nasłuchuje na http://{ $addr }
cli-unknown_workspace = Nie ma przestrzeni { $slug }
email-acknowledgement =
    Dzień dobry,

    otrzymaliśmy Twoją wiadomość i otworzyliśmy zgłoszenie nr { $number }. Odpowiemy najszybciej, jak to możliwe. Aby coś dodać, wystarczy odpowiedzieć na tę wiadomość.

    To jest wiadomość automatyczna.
