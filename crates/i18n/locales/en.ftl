# English messages (Fluent). Every locale has every message with the same variables.
# Message ids are the code's keys with '.' written as '-': error.not_found is error-not_found.

error-bad_json = The request body is not valid JSON: { $detail }
error-bad_field = The field { $field } is invalid: { $detail }
error-missing_field = The field { $field } is required
error-body_too_large = The request body is larger than { $limit } bytes
error-unauthorized = A valid API token is required (Authorization: Bearer TOKEN)
error-bad_signature = The webhook signature is missing or wrong
error-forbidden = Your role ({ $role }) may not do this
error-not_found = Not found
error-route_not_found = There is no such endpoint
error-method_not_allowed = This endpoint does not accept that method
error-conflict = This conflicts with existing data: { $detail }
error-invalid_state = Not possible in the current state: { $detail }
error-internal = Something went wrong on our side; it has been logged
error-unsupported_media_type = The body must be sent as { $expected }
error-channel_kind_mismatch = This channel is not of kind { $kind }
error-not_an_email = The body is not an email message (RFC 5322)
error-email_too_large = The email is over this channel's limit ({ $field }): { $detail }
cli-token_created = Token for { $name } ({ $role }) in workspace { $workspace }:
cli-workspace_created = Workspace { $slug } created.
cli-migrated = Database is up to date ({ $count ->
        [one] { $count } migration applied now
       *[other] { $count } migrations applied now
    }).
cli-demo_done = Demo data created in workspace { $workspace }: { $conversations ->
        [one] { $conversations } conversation
       *[other] { $conversations } conversations
    }.
cli-listening = Switchboard is listening on http://{ $addr }
cli-unknown_workspace = There is no workspace { $slug }
email-acknowledgement =
    Hello,

    we have received your message and opened request #{ $number }. We will answer as soon as we can. To add anything, simply reply to this email.

    This is an automatic message.
