# Polskie komunikaty (Fluent). Te same komunikaty i zmienne co w angielskim.
# Message ids are the code's keys with '.' written as '-': error.not_found is error-not_found.

error-bad_request = Nieprawidłowe żądanie: { $detail }
error-bad_json = Treść żądania nie jest poprawnym JSON-em: { $detail }
error-bad_field = Pole { $field } jest niepoprawne: { $detail }
error-missing_field = Pole { $field } jest wymagane
error-body_too_large = Treść żądania przekracza { $limit } bajtów
error-unauthorized = Wymagany jest ważny token API (Authorization: Bearer TOKEN)
error-bad_signature = Brak podpisu webhooka albo jest błędny
error-forbidden = Twoja rola ({ $role }) nie pozwala na to
error-cross_site_request = Ta zmiana musi pochodzić ze strony samego Switchboard (żądanie z innej witryny odrzucone)
error-sign_in_busy = Właśnie sprawdzamy zbyt wiele logowań; spróbuj ponownie za chwilę
error-not_found = Nie znaleziono
error-route_not_found = Nie ma takiego adresu API
error-method_not_allowed = Ten adres nie przyjmuje tej metody
error-conflict = Konflikt z istniejącymi danymi: { $detail }
error-invalid_state = Niemożliwe w obecnym stanie: { $detail }
error-internal = Błąd po naszej stronie; został zapisany w dzienniku
error-storage_full = Pamięć serwera jest pełna; nic nie zapisano. Spróbuj ponownie po zwolnieniu miejsca
error-storage_unavailable = Baza danych nie może teraz przyjmować zmian; nic nie zapisano. Spróbuj później
error-not_ready = Baza danych nie odpowiada; spróbuj za chwilę
error-config_too_large = Ustawienia kanału mają { $size } bajtów; dopuszczalne jest najwyżej { $limit }
error-unsupported_media_type = Treść trzeba wysłać jako { $expected }
error-channel_kind_mismatch = Ten kanał nie jest rodzaju { $kind }
error-not_an_email = Treść żądania nie jest wiadomością e-mail (RFC 5322)
error-email_too_large = Wiadomość przekracza limit kanału ({ $field }): { $detail }
error-destination_not_allowed = Pole { $field } wskazuje adres, z którym serwer się nie łączy: { $class ->
        [loopback] ten komputer (loopback), zamknięty ustawieniem serwera outbound.allow_private_networks
        [private] sieć prywatna, zamknięta ustawieniem serwera outbound.allow_private_networks
        [link-local] adres link-local, pod którym odpowiadają usługi metadanych chmury
        [metadata] usługa metadanych chmury
       *[other] adres, na który nie wysyła się żadnych żądań
    }
cli-token_created = Token dla { $name } ({ $role }) w przestrzeni { $workspace }:
cli-account_created = Konto { $email } ({ $role }) utworzone w przestrzeni { $workspace }.
cli-password_needed = Ustaw hasło w zmiennej środowiskowej SWITCHBOARD_PASSWORD.
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

## The agent workspace (crates/ui)
ui-skip_to_content = Przejdź do treści
ui-navigation = Menu główne
ui-inbox = Skrzynka
ui-account = Konto
ui-colleagues_online = Współpracownicy online
ui-sign_out = Wyloguj
ui-sign_in = Zaloguj się
ui-email = E-mail
ui-password = Hasło
ui-name = Imię i nazwisko
ui-login_failed = Nieprawidłowy e-mail lub hasło.
ui-login_throttled = Zbyt wiele nieudanych prób. Spróbuj ponownie za { $minutes ->
        [one] { $minutes } minutę
        [few] { $minutes } minuty
        [many] { $minutes } minut
       *[other] { $minutes } minuty
    }.
ui-setup_title = Utwórz pierwszego administratora
ui-setup_intro = Ten jednorazowy link tworzy administratora tego Switchboard. Podaj imię, e-mail i hasło.
ui-new_password = Nowe hasło
ui-current_password = Obecne hasło
ui-password_rule = Co najmniej 10 znaków.
ui-password_wrong = Obecne hasło jest nieprawidłowe.
ui-name_and_email_needed = Wymagane są imię i prawidłowy adres e-mail.
ui-create_admin = Utwórz administratora i zaloguj
ui-setup_link_used = Ten link jest już nieważny. Uruchom serwer ponownie, aby wypisał nowy.
ui-error_title = Coś jest nie tak
ui-back_to_inbox = Wróć do skrzynki
ui-saved = Zapisano.
ui-preferences = Ustawienia
ui-language = Język
ui-language_browser = Jak w przeglądarce
ui-notify_desktop = Powiadomienia przeglądarki
ui-notify_sound = Dźwięk przy nowych rozmowach i odpowiedziach
ui-save = Zapisz
ui-change_password = Zmień hasło
ui-signed_in_as = Zalogowano jako
ui-views = Widoki
ui-view-mine = Moje
ui-view-unassigned = Nieprzypisane
ui-view-teams = Moje zespoły
ui-view-bot = Bot
ui-view-all = Wszystkie
ui-by_status = Według statusu
ui-by_channel = Według ostatniego kanału klienta (nierozwiązane)
ui-status = Status
ui-status-unsolved = Nierozwiązane
ui-status-any = Dowolny status
ui-status-new = Nowa
ui-status-open = Otwarta
ui-status-pending = Czeka na klienta
ui-status-on_hold = Wstrzymana
ui-status-solved = Rozwiązana
ui-status-closed = Zamknięta
ui-priority = Priorytet
ui-priority-low = Niski
ui-priority-normal = Normalny
ui-priority-high = Wysoki
ui-priority-urgent = Pilny
ui-conversations_count = { $count ->
        [one] { $count } rozmowa
        [few] { $count } rozmowy
        [many] { $count } rozmów
       *[other] { $count } rozmowy
    }
ui-duration-minutes = { $count ->
        [one] { $count } minutę
        [few] { $count } minuty
        [many] { $count } minut
       *[other] { $count } minuty
    }
ui-duration-hours = { $count ->
        [one] { $count } godzinę
        [few] { $count } godziny
        [many] { $count } godzin
       *[other] { $count } godziny
    }
ui-duration-days = { $count ->
        [one] { $count } dzień
        [few] { $count } dni
        [many] { $count } dni
       *[other] { $count } dnia
    }
ui-waiting_now = czeka krócej niż minutę
ui-waiting_for = czeka { $duration }
ui-inbox_empty = Pusto. Dobra robota.
ui-inbox_keys = Klawisze: j/k ruch, Enter otwiera, / szukaj, r odpowiedź, n notatka, e rozwiązana.
ui-older = Starsze rozmowy
ui-search = Szukaj
ui-search_hint = Słowa w tematach i wiadomościach
ui-channel = Ostatni kanał
ui-any = Dowolny
ui-assignee = Przypisana do
ui-nobody = Nikt
ui-team = Zespół
ui-tag = Etykieta
ui-tags = Etykiety (po przecinku)
ui-required_skills = Wymagane umiejętności (po przecinku)
ui-required_skills_help = Automatycznie otrzymają ją tylko konsultanci ze wszystkimi tymi umiejętnościami.
ui-sort = Kolejność
ui-sort_waiting = Najdłużej czekające najpierw
ui-sort_recent = Ostatnia aktywność najpierw
ui-apply = Zastosuj
ui-clear_filters = Wyczyść filtry
ui-no_subject = (bez tematu)
ui-timeline = Historia
ui-agent = Konsultant
ui-customer = Klient
ui-automatic = automatyczna
ui-quoted = Wcześniejsze wiadomości
ui-direction-in = odebrana
ui-direction-out = wysłana
ui-direction-note = notatka wewnętrzna
ui-direction-system = system
ui-delivery-queued = w kolejce
ui-delivery-sent = wysłana
ui-delivery-delivered = doręczona
ui-delivery-failed = niedoręczona
ui-channel-api = API
ui-channel-email = E-mail
ui-channel-telegram = Telegram
ui-channel-whatsapp = WhatsApp
ui-channel-vk = VK
ui-channel-viber = Viber
ui-channel-twilio_sms = SMS
ui-channel-twilio_voice = Telefon
ui-channel-widget = Czat na stronie
ui-event-created = Rozmowa rozpoczęta
ui-event-channel = Rozpoczęta w kanale { $channel }
ui-event-continued = Kontynuacja w kanale { $channel } po kanale { $previous }
ui-event-status = { $who }: status „{ $status }”
ui-event-priority = { $who }: priorytet „{ $priority }”
ui-event-assignee = { $who } przypisał(a) do: { $agent }
ui-event-team = { $who } przekazał(a) zespołowi { $team }
ui-event-tags = { $who } zmienił(a) etykiety: { $tags }
ui-event-required_skills = { $who } zmienił(a) wymagane umiejętności: { $skills }
ui-event-merged = { $who } połączył(a) klienta z innym profilem
ui-event-unmerged = { $who } cofnął(-ęła) połączenie klienta
ui-event-participant = Dodano osobę w kopii
ui-event-delivery_failed = Niedoręczona: { $reason }
ui-event-delivery_delayed = Doręczenie opóźnione: { $reason }
ui-event-auto_suppressed = Automatyczna odpowiedź wstrzymana (za dużo w ciągu godziny)
ui-read_only = Twoja rola pozwala czytać tę rozmowę, ale nie odpowiadać.
ui-compose_kind = Odpowiedź lub notatka wewnętrzna
ui-reply = Odpowiedź do klienta
ui-note = Notatka wewnętrzna
ui-send_on = Wyślij przez
ui-message = Wiadomość
ui-reply_hint = Napisz odpowiedź albo notatkę z @imię, aby zawołać współpracownika
ui-attach = Dołącz pliki
ui-send = Wyślij
ui-details = Szczegóły
ui-solve = Rozwiązana
ui-verified = Potwierdzone przez kanał
ui-conversations = Rozmowy
ui-all_of_customer = Wszystkie rozmowy tego klienta
ui-live-viewing = { $name } przegląda
ui-live-typing = { $name } pisze odpowiedź
ui-live-new_conversation = Nowa rozmowa
ui-live-new_reply = Nowa odpowiedź klienta
ui-live-mentioned = { $name } wspomniał(a) o Tobie
ui-live-reconnecting = Ponowne łączenie…
ui-live-failed = Nie wysłano
ui-presence-online = online
ui-presence-away = zaraz wracam
ui-presence-offline = offline

ui-admin-title = Administracja
ui-admin-people = Osoby
ui-admin-teams = Zespoły
ui-admin-channels = Kanały
ui-admin-canned = Gotowe odpowiedzi
ui-admin-tokens = Tokeny API
ui-admin-settings = Ustawienia
ui-admin-role = Rola
ui-admin-actions = Akcje
ui-admin-state = Stan
ui-admin-active = Aktywne
ui-admin-deactivated = Wyłączone
ui-admin-invited = Zaproszone, bez hasła
ui-admin-invite = Zaproś
ui-admin-invite_link = Link zaproszenia
ui-admin-invited_link = Wyślij ten jednorazowy link: { $name }; działa przez 7 dni.
ui-admin-new_team = Nowy zespół
ui-admin-routing = Umiejętności i języki
ui-admin-routing_help = Przydział daje rozmowę tylko konsultantowi, który ma wszystkie wymagane umiejętności i, jeśli podał języki, mówi w języku klienta.
ui-admin-skills = Umiejętności (po przecinku)
ui-admin-languages = Języki
ui-admin-assignment = Przydział
ui-admin-assignment_method = Metoda
ui-admin-method-manual = Ręcznie
ui-admin-method-round_robin = Po kolei (najdawniej przydzielony)
ui-admin-method-least_loaded = Najmniej obciążony
ui-admin-only_online = Tylko konsultanci online
ui-admin-capacity_help = Najwięcej otwartych rozmów na konsultanta dla rodzaju kanału (puste: bez limitu).
ui-admin-capacity_of = Limit: { $kind }
ui-admin-create = Utwórz
ui-admin-delete = Usuń
ui-admin-kind = Rodzaj
ui-admin-webhook_url = URL webhooka
ui-admin-secret = Sekret podpisu
ui-admin-secret_hint = Dostawca podpisuje tym sekretem wszystko, co wysyła na URL webhooka (X-Switchboard-Signature dla API i poczty); zachowaj go w tajemnicy.
ui-admin-created = Utworzono
ui-admin-new_channel = Nowy kanał
ui-admin-config = Konfiguracja (JSON)
ui-admin-config_hint = Wpisane tu sekrety są zapisywane i nigdy nie pokazywane przez API. Klucze każdego rodzaju są w przykładach poniżej.
ui-admin-examples = Przykłady dla każdego rodzaju
ui-admin-secrets_kept = Hasła i tokeny nie są pokazywane: pomiń je, aby zachować obecne, albo wpisz nowe.
ui-admin-configure = Konfiguracja
ui-admin-test = Sprawdź połączenie
ui-admin-test_ok = Połączenie działa.
ui-admin-test_failed = Połączenie nie powiodło się:
ui-admin-check_timed_out = brak odpowiedzi w ciągu { $seconds } s
ui-admin-placeholders = Wstawki:
ui-admin-title_field = Tytuł
ui-admin-body = Treść
ui-admin-new_canned = Nowa gotowa odpowiedź
ui-admin-revoke = Unieważnij
ui-admin-revoked = Unieważniony
ui-admin-new_token = Nowy token
ui-admin-token_once = Nowy token, pokazany tylko ten jeden raz:
ui-admin-continuity = Okno kontynuacji (godziny)
ui-admin-continuity_hint = Klient, który napisze ponownie w tym czasie, w dowolnym kanale, kontynuuje swoją otwartą rozmowę.
ui-admin-reopen = Okno ponownego otwarcia (godziny)
ui-admin-reopen_hint = Rozwiązana rozmowa otwiera się ponownie, gdy klient napisze w tym czasie; później zaczyna się nowa.
ui-role-admin = Administrator
ui-role-supervisor = Kierownik
ui-role-agent = Konsultant
ui-role-viewer = Obserwator
ui-attributes = Atrybuty (jedno „nazwa: wartość” w wierszu)
ui-customer_notes = Notatki o kliencie
ui-edit_customer = Edytuj klienta
ui-customer_merged = Profile połączone.
ui-undo = Cofnij
ui-merge = Połącz
ui-not_same_person = To inna osoba
ui-merge_suggestions = Być może ta sama osoba
ui-same_person = { $name } (wspólne: { $detail })
ui-canned = Gotowa odpowiedź
ui-insert = Wstaw
ui-invite_title = Dołącz do Switchboard
ui-invite_intro = Zaproszono Cię jako { $name } ({ $email }). Ustaw hasło.
ui-invite_accept = Ustaw hasło i zaloguj się
ui-invite_gone = To zaproszenie jest już nieważne (użyte, wygasłe lub wycofane). Poproś administratora o nowe.
ui-notifications = Powiadomienia
ui-mark_all_read = Oznacz wszystkie jako przeczytane
ui-no_notifications = Na razie nic. Gdy ktoś wspomni o Tobie w notatce, pojawi się to tutaj.
ui-notification-mention = { $name } wspomniał(a) o Tobie w #{ $number }
ui-formatted = Z formatowaniem
ui-remote_images_blocked = Obrazy zewnętrzne są zablokowane (mogą zdradzić nadawcy, że wiadomość otwarto).
ui-load_remote_images = Otwórz z obrazami zewnętrznymi
ui-edited = edytowana
ui-reactions = Reakcje
ui-event-edited = Klient zmienił wiadomość; wcześniej brzmiała: { $text }
ui-admin-register_webhook = Zarejestruj webhook u dostawcy
ui-admin-registered = Zarejestrowano:
ui-admin-register_failed = Rejestracja nie powiodła się:
ui-admin-webhooks = Webhooki
ui-admin-webhooks_hint = Switchboard wysyła wybrane zdarzenia na każdy URL jako JSON, podpisane zgodnie ze specyfikacją Standard Webhooks (nagłówki webhook-id, webhook-timestamp i webhook-signature: HMAC-SHA256 z sekretem whsec_). Nieudana dostawa jest ponawiana przez 24 godziny; webhook-id jest ten sam przy każdej próbie i każdym ponownym wysłaniu, więc odbiorca może odrzucić powtórzenia. Adres, który odpowie 410 Gone albo nie przyjmuje dostaw przez 5 dni, zostaje wyłączony.
ui-admin-new_webhook = Nowy webhook
ui-admin-url = URL
ui-admin-description = Opis
ui-admin-events = Zdarzenia
ui-admin-all_events = Wszystkie zdarzenia, także dodane później
ui-admin-enabled = Włączony
ui-admin-webhook_on = Włączony
ui-admin-webhook_off = Wyłączony
ui-admin-webhook_gone = Wyłączony: adres odpowiedział 410 Gone
ui-admin-webhook_failing = Wyłączony: wszystkie próby zawodziły przez 5 dni
ui-admin-last_success = Ostatnia udana dostawa
ui-admin-failing_since = Błędy od
ui-admin-webhook_secret_once = Sekret podpisu, pokazywany tylko ten jeden raz:
ui-admin-previous_secret_until = Poprzedni sekret też podpisuje do
ui-admin-send_test = Wyślij zdarzenie testowe
ui-admin-test_sent = Zdarzenie testowe jest w drodze; pojawi się w dzienniku poniżej.
ui-admin-rotate_secret = Zmień sekret
ui-admin-deliveries = Dostawy
ui-admin-no_deliveries = Na razie brak dostaw.
ui-admin-at = Czas
ui-admin-event = Zdarzenie
ui-admin-event_id = Identyfikator zdarzenia (nagłówek webhook-id)
ui-admin-attempts = Próby
ui-admin-http_status = Status HTTP
ui-admin-response = Odpowiedź
ui-admin-replay = Wyślij ponownie
ui-admin-replayed = Wysłano ponownie jako nową dostawę z tym samym webhook-id.
ui-admin-older = Starsze dostawy
ui-admin-next_attempt = następna próba
ui-webhook_status-pending = Oczekuje
ui-webhook_status-delivered = Dostarczono
ui-webhook_status-failed = Nie dostarczono
ui-webhook_event-conversation-created = rozpoczęła się rozmowa
ui-webhook_event-conversation-updated = zmienił się status, priorytet, osoba przypisana, zespół lub tagi
ui-webhook_event-conversation-assigned = zmieniła się osoba przypisana
ui-webhook_event-message-received = pisze klient
ui-webhook_event-message-sent = wysłano odpowiedź (agenta, bota lub automatyczną)
ui-webhook_event-note-created = dodano notatkę wewnętrzną
ui-webhook_event-contact-created = nowy klient
ui-webhook_event-contact-merged = dwóch klientów połączono w jednego
ui-webhook_event-sla-warning = zbliża się termin SLA
ui-webhook_event-sla-breached = termin SLA minął

## The web chat widget and its events
error-origin_not_allowed = Ta strona nie może używać widżetu czatu (jej origin nie ma w allowed_origins kanału)
error-visitor_unknown = Sesja czatu jest nieznana lub wygasła; rozpocznij czat ponownie
error-visitor_expired = Sesja czatu wygasła; rozpocznij czat ponownie
error-identity_not_verified = Nie udało się potwierdzić zalogowanego użytkownika: { $detail }
error-widget_misconfigured = Widżet czatu jest źle skonfigurowany: { $detail }
widget-title = Napisz do nas
widget-open = Otwórz czat
widget-close = Zamknij czat
widget-greeting = Dzień dobry! Zapytaj nas o cokolwiek — chętnie pomożemy.
widget-name = Twoje imię
widget-email = E-mail (opcjonalnie)
widget-email_hint = Jeśli wyjdziesz, odpowiemy e-mailem.
widget-start = Rozpocznij czat
widget-placeholder = Napisz wiadomość…
widget-send = Wyślij
widget-attach = Dołącz plik
widget-you = Ty
widget-agent = Wsparcie
widget-typing = { $name } pisze…
widget-online = Jesteśmy dostępni
widget-offline = Teraz nas nie ma
widget-reply_time = { $minutes ->
    [one] Zwykle odpowiadamy w około minutę
    [few] Zwykle odpowiadamy w około { $minutes } minuty
   *[other] Zwykle odpowiadamy w około { $minutes } minut
}
widget-reply_soon = Odpowiemy najszybciej, jak to możliwe
widget-csat_question = Jak nam poszło?
widget-csat_comment = Chcesz coś dodać? (opcjonalnie)
widget-csat_send = Wyślij ocenę
widget-csat_thanks = Dziękujemy za ocenę!
widget-failed = Nie wysłano
widget-retry = Spróbuj ponownie
widget-reconnecting = Łączymy ponownie…
widget-new_message = Nowa wiadomość
widget-file_too_large = Ten plik jest za duży
ui-event-csat = Klient ocenił rozmowę na { $rating }/5: { $comment }
ui-event-csat_plain = Klient ocenił rozmowę na { $rating }/5
ui-event-emailed = Odwiedzający wyszedł: odpowiedź poszła e-mailem na { $to }
ui-customer_typing = Klient pisze…
ui-admin-embed = Kod do osadzenia
error-too_many_messages = Za dużo wiadomości; spróbuj ponownie za { $seconds } s

## Łączenie i dzielenie rozmów
error-merge_into_itself = Rozmowy nie można połączyć z nią samą
error-different_customer = Te rozmowy należą do różnych klientów; jeśli to ta sama osoba, najpierw połącz klientów
error-other_merged = Tamta rozmowa została już połączona z inną
error-merged_away = Ta rozmowa została połączona z inną; łącz z tamtą
error-conversation_closed = Zamknięta rozmowa jest ostateczna: nie można do niej przenieść wiadomości ani ich z niej zabrać
error-merge_already_undone = To połączenie zostało już cofnięte
error-merge_changed_since = Od połączenia coś się zmieniło i nie da się go dokładnie cofnąć (rozmowę ponownie połączono albo wydzielono z niej wiadomości); najpierw to cofnij lub przywróć
error-not_a_customer_message = Osobną rozmową może stać się tylko wiadomość klienta
error-split_takes_everything = Wtedy z rozmowy zniknęłyby wszystkie wiadomości i nic by w niej nie zostało
error-split_leaves_no_customer_message = Wtedy w rozmowie nie zostałaby żadna wiadomość klienta
error-conversations_merged_since = Od tego czasu rozmowę jednego z tych klientów połączono z rozmową drugiego; najpierw cofnij to połączenie rozmów
ui-merge_into_this = Połącz z tą rozmową…
ui-merge_which = Rozmowa do przeniesienia tutaj
ui-merge_hint = Jej wiadomości, kanały i uczestnicy przejdą tutaj, a ona zostanie zamknięta; połączenie można cofnąć.
ui-merge_conversation = Połącz z tą rozmową
ui-merged_into = Ta rozmowa została połączona z { $conversation }.
ui-event-merged_from = Dołączono { $conversation } ({ $who })
ui-event-merged_into = Połączono z { $conversation } ({ $who })
ui-event-unmerged_from = { $who } cofnął(-ęła) połączenie z { $conversation }
ui-event-unmerged_into = { $who } cofnął(-ęła) połączenie z { $conversation }
ui-event-split_into = Wydzielono do nowej rozmowy { $conversation } ({ $who })
ui-event-split_from = Wydzielono z { $conversation } ({ $who })
ui-split_menu = Wydziel…
ui-split_with_later = razem ze wszystkimi późniejszymi wiadomościami
ui-split = Wydziel do nowej rozmowy
bot-did_it_help = Czy to pomogło? Odpowiedz „tak” lub „nie”.
bot-glad = Cieszymy się, że pomogło! Napisz, gdy będziesz czegoś potrzebować.
bot-handing_over = Przekazuję pytanie naszemu zespołowi; konsultant odpowie tutaj.
bot-note_not_helpful = Klient odpowiedział, że odpowiedź bota nie pomogła.
bot-note_handed_over = Bot przekazał rozmowę konsultantom. Pytanie: „{ $question }”. Powód: { $reason }.
bot-reason-answered = udzielono odpowiedzi
bot-reason-no_match = żaden artykuł nie odpowiada na pytanie
bot-reason-low_confidence = najlepszy artykuł nie pasuje wystarczająco pewnie
bot-reason-asks_for_person = klient poprosił o konsultanta
bot-reason-empty_question = wiadomość nie ma słów, na które można odpowiedzieć
bot-reason-draft = najlepszy artykuł jest szkicem
bot-reason-stale = najlepszemu artykułowi minął termin przeglądu
bot-reason-missing = najlepszy artykuł nie ma odpowiedzi w tym języku dla tego kanału
bot-reason-outdated = tłumaczenie najlepszego artykułu jest starsze niż zmiana w innym języku
bot-reason-agent_only = najlepszy artykuł jest tylko dla konsultantów
help-title = Centrum pomocy
help-description = Odpowiedzi { $workspace }: instrukcje, zasady i rozwiązania w Twoim języku.
help-skip = Przejdź do treści
help-languages = Języki
help-search = Szukaj w centrum pomocy
help-search_button = Szukaj
help-search_results = Wyniki wyszukiwania
help-results_for = { $count ->
    [one] { $count } artykuł dla „{ $q }”
    [few] { $count } artykuły dla „{ $q }”
   *[many] { $count } artykułów dla „{ $q }”
}
help-no_results = Nic nie znaleziono. Spróbuj innych słów lub napisz do nas.
help-empty = Nie ma jeszcze artykułów.
help-other_articles = Inne artykuły
help-still_need_help = Nadal potrzebujesz pomocy?
help-chat_with_us = Napisz na czacie
help-write_to_us = Napisz do nas:
help-no_contact = Odpowiedz na dowolną naszą wiadomość.
help-updated = Zaktualizowano
help-breadcrumbs = Jesteś tutaj
help-not_found = Ta strona nie istnieje
cli-reindexed = Indeks wyszukiwania przebudowany: dokumentów { $documents }, { $seconds } s
cli-reindex_failed = Nie można przebudować indeksu wyszukiwania: { $error } (trzyma go działający serwer: najpierw zatrzymaj serwer)
ui-kb-title = Baza wiedzy
ui-kb-all = Wszystkie artykuły
ui-kb-review_due = Do przeglądu
ui-kb-new = Nowy artykuł
ui-kb-none = Brak artykułów.
ui-kb-article = Artykuł
ui-kb-version = Wersja
ui-kb-versions = Wersje
ui-kb-languages = Języki
ui-kb-bot_answers = Odpowiedzi bota · bez konsultanta
ui-kb-updated = Zmieniono
ui-kb-stale = przeterminowany
ui-kb-outdated = nieaktualne tłumaczenie
ui-kb-outdated_hint = Starsze niż zmiana w innym języku: bot i centrum pomocy nie pokażą go, dopóki ktoś go nie zaktualizuje lub nie potwierdzi.
ui-kb-confirm = Treść nadal aktualna: potwierdź
ui-kb-review_by = Przejrzeć do
ui-kb-category = Kategoria
ui-kb-tags = Tagi (po przecinku)
ui-kb-questions = Jak pytają klienci
ui-kb-questions_hint = Jak pytają klienci, po jednym w wierszu
ui-kb-edit = Edytuj
ui-kb-field_title = tytuł
ui-kb-field_body = treść (Markdown)
ui-kb-status-draft = Szkic
ui-kb-status-published = Opublikowany
ui-kb-kind-web = Centrum pomocy
ui-kb-kind-short = Odpowiedź na czacie
ui-kb-kind-spoken = Głosowa (telefon)
ui-kb-kind-agent = Dla konsultantów
ui-kb-deflection = Odpowiedzi bota z 30 dni
ui-kb-deflection_summary = odpowiedzi: { $answered }, bez konsultanta: { $deflected }, w ciągu 72 godzin: { $pending }
ui-kb-rate = odsetek bez konsultanta
ui-kb-suggested = Pasujące artykuły
ui-kb-no_suggestions = Żaden artykuł nie pasuje do wiadomości klienta.
bot-yes = Tak
bot-no = Nie

# Routing, SLA and automation
ui-admin-rules = Reguły
ui-admin-sla = SLA
ui-rules-intro = Reguły działają w tej kolejności przy każdej zmianie, w ramach samej zmiany; każda najwyżej raz. Reguły czasowe działają w chwili, gdy warunek staje się prawdziwy.
ui-rules-new = Nowa reguła
ui-rules-none = Brak reguł.
ui-rules-name = Nazwa
ui-rules-when = Kiedy
ui-rules-state = Stan
ui-rules-on = wł.
ui-rules-off = wył.
ui-rules-conditions = Warunki
ui-rules-match = Dopasowanie
ui-rules-match_all = wszystkie warunki
ui-rules-match_any = dowolny warunek
ui-rules-field_n = Pole { $n }
ui-rules-op_n = Operator { $n }
ui-rules-value_n = Wartość { $n }
ui-rules-action_n = Akcja { $n }
ui-rules-values_hint = Listy oddzielone przecinkami; słowa pasują we wszystkich formach. Zespół i agent po nazwie; „none” — nikt. Godziny mogą być ułamkowe.
ui-rules-json = Zaawansowane: warunki jako JSON (grupy zagnieżdżone)
ui-rules-json_hint = Jeśli wypełnione, zastępuje wiersze powyżej.
ui-rules-actions = Akcje
ui-rules-enabled = Włączona
ui-rules-dry_run = Próba na sucho
ui-rules-dry_run_result = Próba na sucho
ui-rules-dry_run_summary = Pasowałaby do { $matched } z ostatnich { $examined } rozmów.
ui-rules-would_do = Zrobiłaby
ui-rules-refused = Nie zapisano:
ui-subject = Temat
ui-rules-trigger-message_received = Przychodzi wiadomość klienta
ui-rules-trigger-conversation_created = Powstaje rozmowa
ui-rules-trigger-conversation_updated = Rozmowa się zmienia
ui-rules-trigger-time = Czasowo
ui-rules-trigger-sla_warning = Ostrzeżenie SLA
ui-rules-trigger-sla_breached = Naruszenie SLA
ui-rules-field-text = Treść wiadomości
ui-rules-field-subject = Temat
ui-rules-field-language = Język
ui-rules-field-channel_kind = Rodzaj kanału
ui-rules-field-status = Status
ui-rules-field-priority = Priorytet
ui-rules-field-tags = Tagi
ui-rules-field-team = Zespół
ui-rules-field-assignee = Przypisany
ui-rules-field-customer_plan = Klient: plan
ui-rules-field-hours_since_created = Godzin od utworzenia
ui-rules-field-hours_since_customer_message = Godzin od wiadomości klienta
ui-rules-field-escalation_risk = Ryzyko eskalacji
ui-rules-field-channel_id = Id kanału
ui-rules-op-contains_any = zawiera którekolwiek z
ui-rules-op-contains_none = nie zawiera żadnego z
ui-rules-op-is = jest
ui-rules-op-is_not = nie jest
ui-rules-op-gt = więcej niż
ui-rules-op-lt = mniej niż
ui-rules-action-set_team = Ustaw zespół
ui-rules-action-assign = Przydziel metodą zespołu
ui-rules-action-set_assignee = Ustaw przypisanego
ui-rules-action-set_priority = Ustaw priorytet
ui-rules-action-add_tags = Dodaj tagi
ui-rules-action-remove_tags = Usuń tagi
ui-rules-action-set_status = Ustaw status
ui-rules-action-set_skills = Wymagaj umiejętności (po przecinku)
ui-rules-action-reply = Odpowiedz klientowi
ui-rules-action-note = Dodaj notatkę
ui-rules-action-webhook = Wywołaj webhook
ui-sla-intro = Obowiązuje pierwsza polityka, której warunki pasują. Zegary liczą czas pracy kalendarza od czasu wiadomości klienta; rozwiązanie wstrzymuje się, gdy czekamy na klienta.
ui-sla-policies = Polityki SLA
ui-sla-no_policies = Brak polityk SLA.
ui-sla-new_policy = Nowa polityka SLA
ui-sla-first_response = Pierwsza odpowiedź
ui-sla-next_response = Następna odpowiedź
ui-sla-resolution = Rozwiązanie
ui-sla-warn_before = Ostrzeż przed
ui-sla-in_minutes = minuty
ui-sla-minutes = { $n } min
ui-sla-calendar = Kalendarz
ui-sla-always = Całą dobę (UTC)
ui-sla-conditions = Warunki (JSON, jak w regułach; puste: każda rozmowa)
ui-sla-calendars = Kalendarze pracy
ui-sla-new_calendar = Nowy kalendarz
ui-sla-time_zone = Strefa czasowa (IANA)
ui-sla-hours_hint = Godziny dnia: 09:00-13:00, 14:00-18:00; 22:00-02:00 przechodzi przez północ; puste: wolne.
ui-sla-holidays = Święta
ui-sla-working_days = Dodatkowe dni robocze
ui-sla-due_in = { $metric }: zostało { $duration }
ui-sla-overdue = { $metric }: po terminie
ui-sla-metric-first_response = Pierwsza odpowiedź
ui-sla-metric-next_response = Następna odpowiedź
ui-sla-metric-resolution = Rozwiązanie
ui-view-risk = Zagrożone
ui-risk-watch = Uwaga
ui-risk-high = Zagrożone
ui-sort_risk = Najpierw ryzyko eskalacji
ui-risk-reason-channels = { $count } kanały w { $hours } godz. bez odpowiedzi
ui-risk-reason-messages = { $count } wiadomości w { $hours } godz. bez odpowiedzi
ui-risk-reason-public = publiczny wpis
ui-rules-action_value_n = Wartość akcji { $n }

ui-policy = Zasady kontaktu
ui-policy-sales = Sprzedaż
ui-policy-marketing = Marketing
ui-policy-service = Obsługa
ui-policy-decision-allow = Dozwolony
ui-policy-decision-caution = Z ostrożnością
ui-policy-decision-deny = Nie kontaktować się
ui-policy-reason-open_complaint = Otwarta reklamacja #{ $number } ({ $tag })
ui-policy-reason-open_high_priority = Rozmowa #{ $number } jest otwarta, priorytet: { $priority }
ui-policy-reason-opted_out_purpose = Rezygnacja: { $purpose }
ui-policy-reason-opted_out_channel = Rezygnacja: { $channel } (sprzedaż i marketing)
ui-policy-reason-opted_out_both = Rezygnacja: { $purpose }, kanał { $channel }
ui-policy-reason-quiet_hours = U klienta trwają godziny ciszy do { $until }
ui-policy-reason-recent_complaint = Reklamacja #{ $number } zakończona { $date }; ostrożnie do { $until }
ui-policy-reason-low_rating = Ocena rozmowy #{ $number }: { $rating }/5, { $date }
ui-policy-reason-opt_out_unreadable = Nieczytelna rezygnacja: { $value }
ui-policy-local_time = Czas klienta: { $time } ({ $zone })
ui-policy-zone_default = domyślna strefa czasowa
ui-policy-hint = Rezygnacje klienta i jego strefa czasowa to atrybuty opt_out (np. „marketing, sms, sales:phone”) i time_zone (np. Europe/Warsaw).
ui-admin-policy_intro = Co słyszą systemy CRM i dialery, gdy pytają, czy sprzedaż lub marketing może skontaktować się z klientem (GET /api/v1/contacts/{"{"}id{"}"}/contact-policy). Otwarte reklamacje i rozmowy o wysokim priorytecie zawsze oznaczają „nie”; resztę ustawiasz tutaj.
ui-admin-policy_complaint_tags = Tagi, które czynią rozmowę reklamacją (po przecinku)
ui-admin-policy_complaint_days = Ostrożność po zakończeniu reklamacji (dni; 0: brak)
ui-admin-policy_low_rating_max = Oceny uznawane za niskie
ui-admin-policy_low_rating_days = Ostrożność po niskiej ocenie (dni; 0: brak)
ui-admin-policy_quiet = Godziny ciszy: bez sprzedaży i marketingu w nocy według czasu klienta
ui-admin-policy_quiet_start = Cisza od
ui-admin-policy_quiet_end = Cisza do
ui-admin-policy_quiet_days = Cisza przez cały dzień w
ui-admin-policy_exempt = Kanały, których godziny ciszy nie dotyczą
ui-admin-policy_time_zone = Strefa czasowa klientów bez własnej (IANA, np. Europe/Warsaw)
ui-day-mon = Poniedziałek
ui-day-tue = Wtorek
ui-day-wed = Środa
ui-day-thu = Czwartek
ui-day-fri = Piątek
ui-day-sat = Sobota
ui-day-sun = Niedziela

# Macros
ui-admin-macros = Makra
ui-macros-intro = Makro to zestaw działań i odpowiedź, które agent stosuje do rozmowy jednym kliknięciem: status, priorytet, tagi lub zespół, przypisanie, notatka i odpowiedź dla klienta. Najczęściej używane są pierwsze na liście w rozmowie.
ui-macros-name = Nazwa makra
ui-macros-reply = Odpowiedź dla klienta (opcjonalnie)
ui-macros-new = Nowe makro
ui-macros-none = Nie ma jeszcze makr.
ui-macros-applied = Użyte
ui-macros-refused = Nie zapisano:
ui-macros-apply_label = Makro
ui-macros-apply = Zastosuj makro
ui-event-macro_applied = { $who } zastosował(a) makro „{ $name }”
# Publiczne wzmianki (posty przez kanały API oznaczone jako public)
ui-rules-trigger-mention_received = Przychodzi publiczny post (wzmianka)
ui-rules-field-author = Autor posta (nick lub imię)
ui-rules-field-known_customer = Autor jest znanym klientem (true lub false)
ui-rules-action-notify = Powiadom agentów (zespół po nazwie lub „none” — wszystkich)
ui-rules-action-open_conversation = Otwórz rozmowę z posta
ui-rules-dry_run_mentions = Pasowałaby do { $matched } z ostatnich { $examined } publicznych postów.
ui-mentions-title = Wzmianki
ui-mentions-intro = Publiczne posty o marce (sieci społecznościowe, fora) przez kanały API oznaczone jako public. Zostają tutaj, poza skrzynką, dopóki reguła lub agent nie otworzy rozmowy.
ui-mentions-filter = Wzmianki według statusu
ui-mentions-all = Wszystkie
ui-mentions-status-new = Nowe
ui-mentions-status-reviewed = Przejrzane
ui-mentions-status-dismissed = Odrzucone
ui-mentions-none = Brak publicznych postów.
ui-mentions-source = Otwórz post
ui-mentions-known_customer = Znany klient:
ui-mentions-conversation = Rozmowa #{ $number }
ui-mentions-open_conversation = Otwórz rozmowę
ui-mentions-mark_reviewed = Oznacz jako przejrzane
ui-mentions-dismiss = Odrzuć
ui-mentions-older = Starsze posty
ui-mentions-author = Autor
ui-mentions-text = Post
ui-mentions-of_customer = Publiczne posty
ui-mentions-all_of_customer = Wszystkie publiczne posty klienta
ui-notification-public_mention = Publiczny post pasuje do reguły monitorowania
