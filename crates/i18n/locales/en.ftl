# English messages (Fluent). Every locale has every message with the same variables.
# Message ids are the code's keys with '.' written as '-': error.not_found is error-not_found.

error-bad_request = The request is malformed: { $detail }
error-bad_json = The request body is not valid JSON: { $detail }
error-bad_field = The field { $field } is invalid: { $detail }
error-missing_field = The field { $field } is required
error-body_too_large = The request body is larger than { $limit } bytes
error-unauthorized = A valid API token is required (Authorization: Bearer TOKEN)
error-bad_signature = The webhook signature is missing or wrong
error-forbidden = Your role ({ $role }) may not do this
error-cross_site_request = This change must come from the Switchboard page itself (cross-site request refused)
error-sign_in_busy = Too many sign-ins are being checked right now; try again in a moment
error-not_found = Not found
error-route_not_found = There is no such endpoint
error-method_not_allowed = This endpoint does not accept that method
error-conflict = This conflicts with existing data: { $detail }
error-invalid_state = Not possible in the current state: { $detail }
error-internal = Something went wrong on our side; it has been logged
error-storage_full = The server's storage is full; nothing was saved. Try again once space has been freed
error-storage_unavailable = The database cannot take changes right now; nothing was saved. Try again later
error-not_ready = The database does not answer; try again shortly
error-config_too_large = The channel settings are { $size } bytes; at most { $limit } are accepted
error-unsupported_media_type = The body must be sent as { $expected }
error-channel_kind_mismatch = This channel is not of kind { $kind }
error-not_an_email = The body is not an email message (RFC 5322)
error-email_too_large = The email is over this channel's limit ({ $field }): { $detail }
error-destination_not_allowed = The field { $field } points at an address this server does not connect to: { $class ->
        [loopback] this machine (loopback), closed by the server's setting outbound.allow_private_networks
        [private] a private network, closed by the server's setting outbound.allow_private_networks
        [link-local] a link-local address, where cloud metadata services answer
        [metadata] the cloud metadata service
       *[other] an address no request may go to
    }
cli-token_created = Token for { $name } ({ $role }) in workspace { $workspace }:
cli-account_created = Account { $email } ({ $role }) created in workspace { $workspace }.
cli-password_needed = Set the password in the SWITCHBOARD_PASSWORD environment variable.
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

## The agent workspace (crates/ui)
ui-skip_to_content = Skip to content
ui-navigation = Main navigation
ui-inbox = Inbox
ui-account = Account
ui-colleagues_online = Colleagues online
ui-sign_out = Sign out
ui-sign_in = Sign in
ui-email = Email
ui-password = Password
ui-name = Name
ui-login_failed = Wrong email or password.
ui-login_throttled = Too many failed attempts. Try again in { $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    }.
ui-setup_title = Create the first admin
ui-setup_intro = This one-time link creates the administrator of this Switchboard. Choose your name, email and password.
ui-new_password = New password
ui-current_password = Current password
ui-password_rule = At least 10 characters.
ui-password_wrong = The current password is wrong.
ui-name_and_email_needed = A name and a valid email are required.
ui-create_admin = Create admin and sign in
ui-setup_link_used = This setup link is no longer valid. Restart the server to print a new one.
ui-error_title = Something is not right
ui-back_to_inbox = Back to the inbox
ui-saved = Saved.
ui-preferences = Preferences
ui-language = Language
ui-language_browser = As my browser
ui-notify_desktop = Browser notifications
ui-notify_sound = Sound for new conversations and replies
ui-save = Save
ui-change_password = Change password
ui-signed_in_as = Signed in as
ui-views = Views
ui-view-mine = Mine
ui-view-unassigned = Unassigned
ui-view-teams = My teams
ui-view-bot = Bot
ui-view-all = All
ui-by_status = By status
ui-by_channel = By the customer's latest channel (unsolved)
ui-status = Status
ui-status-unsolved = Unsolved
ui-status-any = Any status
ui-status-new = New
ui-status-open = Open
ui-status-pending = Pending
ui-status-on_hold = On hold
ui-status-solved = Solved
ui-status-closed = Closed
ui-priority = Priority
ui-priority-low = Low
ui-priority-normal = Normal
ui-priority-high = High
ui-priority-urgent = Urgent
ui-conversations_count = { $count ->
        [one] { $count } conversation
       *[other] { $count } conversations
    }
ui-duration-minutes = { $count ->
        [one] { $count } minute
       *[other] { $count } minutes
    }
ui-duration-hours = { $count ->
        [one] { $count } hour
       *[other] { $count } hours
    }
ui-duration-days = { $count ->
        [one] { $count } day
       *[other] { $count } days
    }
ui-waiting_now = waiting under a minute
ui-waiting_for = waiting { $duration }
ui-inbox_empty = Nothing here. Well done.
ui-inbox_keys = Keys: j/k move, Enter opens, / search, r reply, n note, e solve.
ui-older = Older conversations
ui-search = Search
ui-search_hint = Words in subjects and messages
ui-channel = Latest channel
ui-any = Any
ui-assignee = Assignee
ui-nobody = Nobody
ui-team = Team
ui-tag = Tag
ui-tags = Tags (comma-separated)
ui-sort = Order
ui-sort_waiting = Longest waiting first
ui-sort_recent = Latest activity first
ui-apply = Apply
ui-clear_filters = Clear filters
ui-no_subject = (no subject)
ui-timeline = Timeline
ui-agent = Agent
ui-customer = Customer
ui-automatic = automatic
ui-quoted = Earlier messages
ui-direction-in = received
ui-direction-out = sent
ui-direction-note = internal note
ui-direction-system = system
ui-delivery-queued = queued
ui-delivery-sent = sent
ui-delivery-delivered = delivered
ui-delivery-failed = failed
ui-channel-api = API
ui-channel-email = Email
ui-channel-telegram = Telegram
ui-channel-whatsapp = WhatsApp
ui-channel-vk = VK
ui-channel-viber = Viber
ui-channel-twilio_sms = SMS
ui-channel-twilio_voice = Phone
ui-channel-widget = Web chat
ui-event-created = Conversation started
ui-event-channel = Started on { $channel }
ui-event-continued = Continued on { $channel } after { $previous }
ui-event-status = { $who } set the status to { $status }
ui-event-priority = { $who } set the priority to { $priority }
ui-event-assignee = { $who } assigned it to { $agent }
ui-event-team = { $who } moved it to team { $team }
ui-event-tags = { $who } set the tags: { $tags }
ui-event-merged = { $who } merged the customer with another profile
ui-event-unmerged = { $who } undid a merge of the customer
ui-event-participant = Someone was copied in
ui-event-delivery_failed = Delivery failed: { $reason }
ui-event-delivery_delayed = Delivery delayed: { $reason }
ui-event-auto_suppressed = An automatic answer was held back (too many within an hour)
ui-read_only = Your role can read this conversation but not answer it.
ui-compose_kind = Reply or internal note
ui-reply = Reply to customer
ui-note = Internal note
ui-send_on = Send on
ui-message = Message
ui-reply_hint = Write a reply, or a note with @name to ask a colleague
ui-attach = Attach files
ui-send = Send
ui-details = Details
ui-solve = Solve
ui-verified = Verified by the channel
ui-conversations = Conversations
ui-all_of_customer = All of this customer's conversations
ui-live-viewing = { $name } is viewing
ui-live-typing = { $name } is typing a reply
ui-live-new_conversation = New conversation
ui-live-new_reply = New reply from a customer
ui-live-mentioned = { $name } mentioned you
ui-live-reconnecting = Reconnecting…
ui-live-failed = Not sent
ui-presence-online = online
ui-presence-away = away
ui-presence-offline = offline

ui-admin-title = Administration
ui-admin-people = People
ui-admin-teams = Teams
ui-admin-channels = Channels
ui-admin-canned = Canned replies
ui-admin-tokens = API tokens
ui-admin-settings = Settings
ui-admin-role = Role
ui-admin-actions = Actions
ui-admin-state = State
ui-admin-active = Active
ui-admin-deactivated = Deactivated
ui-admin-invited = Invited, no password yet
ui-admin-invite = Invite
ui-admin-invite_link = Invitation link
ui-admin-invited_link = Send this one-time link to { $name }; it works for 7 days.
ui-admin-new_team = New team
ui-admin-create = Create
ui-admin-delete = Delete
ui-admin-kind = Kind
ui-admin-webhook_url = Webhook URL
ui-admin-secret = Signing secret
ui-admin-secret_hint = The provider signs what it sends to the webhook URL with this secret (X-Switchboard-Signature for the API and email hooks); keep it private.
ui-admin-created = Created
ui-admin-new_channel = New channel
ui-admin-config = Configuration (JSON)
ui-admin-config_hint = Secrets you enter here are kept and never shown by the API. The keys of each kind are in the examples below.
ui-admin-examples = Examples for every kind
ui-admin-secrets_kept = Passwords and tokens are not shown; leave them out to keep them, or type new ones.
ui-admin-configure = Configure
ui-admin-test = Test the connection
ui-admin-test_ok = The connection works.
ui-admin-test_failed = The connection failed:
ui-admin-check_timed_out = no answer within { $seconds } s
ui-admin-placeholders = Placeholders:
ui-admin-title_field = Title
ui-admin-body = Text
ui-admin-new_canned = New canned reply
ui-admin-revoke = Revoke
ui-admin-revoked = Revoked
ui-admin-new_token = New token
ui-admin-token_once = The new token, shown only this once:
ui-admin-continuity = Continuity window (hours)
ui-admin-continuity_hint = A customer who writes again within this time, on any channel, continues their open conversation.
ui-admin-reopen = Reopen window (hours)
ui-admin-reopen_hint = A solved conversation reopens when the customer writes within this time; later, a new one starts.
ui-role-admin = Admin
ui-role-supervisor = Supervisor
ui-role-agent = Agent
ui-role-viewer = Viewer
ui-attributes = Attributes (one "name: value" per line)
ui-customer_notes = Notes about the customer
ui-edit_customer = Edit customer
ui-customer_merged = Profiles merged.
ui-undo = Undo
ui-merge = Merge
ui-not_same_person = Not the same person
ui-merge_suggestions = Possibly the same person
ui-same_person = { $name } (shares { $detail })
ui-canned = Canned reply
ui-insert = Insert
ui-invite_title = Join Switchboard
ui-invite_intro = You were invited as { $name } ({ $email }). Choose your password.
ui-invite_accept = Set password and sign in
ui-invite_gone = This invitation is no longer valid (used, expired or withdrawn). Ask your admin for a new one.
ui-notifications = Notifications
ui-mark_all_read = Mark all as read
ui-no_notifications = Nothing yet. When a colleague mentions you in a note, it shows here.
ui-notification-mention = { $name } mentioned you in #{ $number }
ui-formatted = Formatted
ui-remote_images_blocked = Remote images are blocked (they can tell the sender you opened the mail).
ui-load_remote_images = Open with remote images
ui-edited = edited
ui-reactions = Reactions
ui-event-edited = The customer changed a message; it said before: { $text }
ui-admin-register_webhook = Register the webhook with the provider
ui-admin-registered = Registered:
ui-admin-register_failed = Registering failed:
ui-admin-webhooks = Webhooks
ui-admin-webhooks_hint = Switchboard posts the events you choose to each URL as JSON, signed as Standard Webhooks specifies (headers webhook-id, webhook-timestamp and webhook-signature: HMAC-SHA256 with the whsec_ secret). A delivery that fails is tried again for 24 hours; the webhook-id stays the same on every attempt and every replay, so your receiver can drop repeats. An endpoint that answers 410 Gone, or fails for 5 days, is switched off.
ui-admin-new_webhook = New webhook
ui-admin-url = URL
ui-admin-description = Description
ui-admin-events = Events
ui-admin-all_events = All events, including those added later
ui-admin-enabled = Enabled
ui-admin-webhook_on = On
ui-admin-webhook_off = Off
ui-admin-webhook_gone = Off: the endpoint answered 410 Gone
ui-admin-webhook_failing = Off: every attempt failed for 5 days
ui-admin-last_success = Last success
ui-admin-failing_since = Failing since
ui-admin-webhook_secret_once = The signing secret, shown only this once:
ui-admin-previous_secret_until = The previous secret also signs until
ui-admin-send_test = Send a test event
ui-admin-test_sent = A test event is on its way; it shows in the log below.
ui-admin-rotate_secret = Rotate the secret
ui-admin-deliveries = Deliveries
ui-admin-no_deliveries = No deliveries yet.
ui-admin-at = Time
ui-admin-event = Event
ui-admin-event_id = Event id (the webhook-id header)
ui-admin-attempts = Attempts
ui-admin-http_status = HTTP status
ui-admin-response = Response
ui-admin-replay = Replay
ui-admin-replayed = Sent again as a new delivery with the same webhook-id.
ui-admin-older = Older deliveries
ui-admin-next_attempt = next attempt
ui-webhook_status-pending = Pending
ui-webhook_status-delivered = Delivered
ui-webhook_status-failed = Failed
ui-webhook_event-conversation-created = a conversation starts
ui-webhook_event-conversation-updated = status, priority, assignee, team or tags change
ui-webhook_event-conversation-assigned = the assignee changes
ui-webhook_event-message-received = a customer writes
ui-webhook_event-message-sent = a reply leaves (an agent's, the bot's or an automatic one)
ui-webhook_event-note-created = an internal note is added
ui-webhook_event-contact-created = a new customer
ui-webhook_event-contact-merged = two customers become one
ui-webhook_event-sla-warning = an SLA deadline is near
ui-webhook_event-sla-breached = an SLA deadline has passed

## The web chat widget and its events
error-origin_not_allowed = This site may not use the chat widget (its origin is not in the channel's allowed_origins)
error-visitor_unknown = The chat session is unknown or has expired; start the chat again
error-visitor_expired = The chat session has expired; start the chat again
error-identity_not_verified = The signed-in user could not be verified: { $detail }
error-widget_misconfigured = The chat widget is not set up correctly: { $detail }
widget-title = Chat with us
widget-open = Open the chat
widget-close = Close the chat
widget-greeting = Hi! Ask us anything — we are here to help.
widget-name = Your name
widget-email = Email (optional)
widget-email_hint = If you leave, we will answer by email.
widget-start = Start the chat
widget-placeholder = Write a message…
widget-send = Send
widget-attach = Attach a file
widget-you = You
widget-agent = Support
widget-typing = { $name } is typing…
widget-online = We are online
widget-offline = We are away right now
widget-reply_time = { $minutes ->
    [one] We usually reply in about a minute
   *[other] We usually reply in about { $minutes } minutes
}
widget-reply_soon = We will reply as soon as we can
widget-csat_question = How did we do?
widget-csat_comment = Anything to add? (optional)
widget-csat_send = Send the rating
widget-csat_thanks = Thank you for your rating!
widget-failed = Not sent
widget-retry = Try again
widget-reconnecting = Reconnecting…
widget-new_message = New message
widget-file_too_large = This file is too large
ui-event-csat = The customer rated the conversation { $rating }/5: { $comment }
ui-event-csat_plain = The customer rated the conversation { $rating }/5
ui-event-emailed = The visitor had left: the reply went by email to { $to }
ui-customer_typing = The customer is typing…
ui-admin-embed = Embed code
error-too_many_messages = Too many messages; try again in { $seconds } s

## Merging and splitting conversations
error-merge_into_itself = A conversation cannot be merged into itself
error-different_customer = These conversations belong to different customers; if they are one person, merge the customers first
error-other_merged = That conversation was already merged into another one
error-merged_away = This conversation was merged into another one; merge into that one instead
error-conversation_closed = A closed conversation is final: it can neither take in messages nor give them up
error-merge_already_undone = This merge was already undone
error-merge_changed_since = Something changed since this merge that its undo cannot put back (the conversation was merged again, or messages were split off it); undo or merge that back first
error-not_a_customer_message = Only a message from the customer can become a conversation of its own
error-split_takes_everything = This would take every message out of the conversation; nothing would be left there
error-split_leaves_no_customer_message = This would leave the conversation without any message from the customer
error-conversations_merged_since = A conversation of one of these customers was merged with one of the other's since; undo that conversation merge first
ui-merge_into_this = Merge into this conversation…
ui-merge_which = Conversation to merge in
ui-merge_hint = Its messages, channels and people move here and it is closed; the merge can be undone.
ui-merge_conversation = Merge into this conversation
ui-merged_into = This conversation was merged into { $conversation }.
ui-event-merged_from = Merged from { $conversation } by { $who }
ui-event-merged_into = Merged into { $conversation } by { $who }
ui-event-unmerged_from = { $who } undid the merge of { $conversation }
ui-event-unmerged_into = { $who } undid the merge into { $conversation }
ui-event-split_into = Split off into { $conversation } by { $who }
ui-event-split_from = Split from { $conversation } by { $who }
ui-split_menu = Split…
ui-split_with_later = with everything after it
ui-split = Split into a new conversation
bot-did_it_help = Did this help? Reply "yes" or "no".
bot-glad = Glad it helped! Write again any time.
bot-handing_over = I am passing your question to our team; an agent will answer you here.
bot-note_not_helpful = The customer said the bot's answer did not help.
bot-note_handed_over = The bot handed this conversation over. Question: "{ $question }". Why: { $reason }.
bot-reason-answered = answered
bot-reason-no_match = no article answers it
bot-reason-low_confidence = the best article was not a sure enough match
bot-reason-asks_for_person = the customer asked for a person
bot-reason-empty_question = the message has no words to answer
bot-reason-draft = the best article is a draft
bot-reason-stale = the best article is past its review date
bot-reason-missing = the best article has no answer in this language for this channel
bot-reason-outdated = the best article's translation is older than a change in another language
bot-reason-agent_only = the best article is for agents only
help-title = Help center
help-description = Answers from { $workspace }: how-tos, policies and fixes, in your language.
help-skip = Skip to the content
help-languages = Languages
help-search = Search the help center
help-search_button = Search
help-search_results = Search results
help-results_for = { $count ->
    [one] One article for "{ $q }"
   *[other] { $count } articles for "{ $q }"
}
help-no_results = Nothing found. Try other words, or write to us.
help-empty = No articles yet.
help-other_articles = Other articles
help-still_need_help = Still need help?
help-chat_with_us = Chat with us
help-write_to_us = Write to us:
help-no_contact = Reply to any message you got from us.
help-updated = Updated
help-breadcrumbs = You are here
help-not_found = This page does not exist
cli-reindexed = Search index rebuilt: { $documents } documents in { $seconds } s
cli-reindex_failed = Cannot rebuild the search index: { $error } (a running server holds it: stop the server first)
ui-kb-title = Knowledge base
ui-kb-all = All articles
ui-kb-review_due = Review due
ui-kb-new = New article
ui-kb-none = No articles here.
ui-kb-article = Article
ui-kb-version = Version
ui-kb-versions = Versions
ui-kb-languages = Languages
ui-kb-bot_answers = Bot answers · deflected
ui-kb-updated = Updated
ui-kb-stale = stale
ui-kb-outdated = outdated
ui-kb-outdated_hint = Older than a change in another language: the bot and the help center do not show it until it is updated or confirmed.
ui-kb-confirm = It still says the same: confirm
ui-kb-review_by = Review by
ui-kb-category = Category
ui-kb-tags = Tags (comma-separated)
ui-kb-questions = How customers ask it
ui-kb-questions_hint = How customers ask it, one per line
ui-kb-edit = Edit
ui-kb-field_title = title
ui-kb-field_body = text (Markdown)
ui-kb-status-draft = Draft
ui-kb-status-published = Published
ui-kb-kind-web = Help center
ui-kb-kind-short = Chat answer
ui-kb-kind-spoken = Spoken (phone)
ui-kb-kind-agent = For agents
ui-kb-deflection = Bot answers in the last 30 days
ui-kb-deflection_summary = { $answered } answered, { $deflected } deflected, { $pending } within 72 hours
ui-kb-rate = deflection rate
ui-kb-suggested = Suggested articles
ui-kb-no_suggestions = No article matches the customer's messages.
bot-yes = Yes
bot-no = No
