"""Writes a schemathesis.toml that lets generated requests reach existing records.

Schemathesis cannot know the ids of the demo workspace, so most operations would only ever see
404. This asks the running server (`schemathesis-ids.py BASE_URL TOKEN OUT`) for some ids of
each kind and binds each operation's `{id}` to them with a probability, so the rest of the
requests still carry ids the server has never seen.
"""

import json
import sys
import urllib.request

base, token, out = sys.argv[1], sys.argv[2], sys.argv[3]


def get(path):
    request = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def items(body):
    """The records of a list answer: the list itself, or the first list in its object."""
    if isinstance(body, list):
        return body
    return next((v for v in body.values() if isinstance(v, list)), []) if isinstance(body, dict) else []


def ids(records, limit=5):
    return [r["id"] for r in records if isinstance(r, dict) and isinstance(r.get("id"), str)][:limit]


conversations = ids(items(get("/api/v1/conversations?limit=20")), 10)
messages, attachments = [], []
for conversation in conversations[:5]:
    for message in items(get(f"/api/v1/conversations/{conversation}/messages")):
        if isinstance(message, dict) and isinstance(message.get("id"), str):
            messages.append(message["id"])
            attachments += ids(message.get("attachments") or [])
kinds = {
    "conversations": conversations,
    "messages": messages[:10],
    "attachments": attachments[:5],
    "contacts": ids(items(get("/api/v1/contacts"))),
    "channels": ids(items(get("/api/v1/channels")), 10),
    "suggestions": ids(items(get("/api/v1/merge-suggestions"))),
    "mentions": ids(items(get("/api/v1/mentions"))),
}
paths = {
    "conversations": r"^/api/v1/conversations/\{id\}",
    "messages": r"^/api/v1/messages/\{id\}",
    "attachments": r"^/api/v1/attachments/\{id\}",
    "contacts": r"^/api/v1/contacts/\{id\}",
    "channels": r"^(/api/v1/channels/\{id\}|/hooks/)",
    "suggestions": r"^/api/v1/merge-suggestions/\{id\}",
    "mentions": r"^/api/v1/mentions/\{id\}",
}
with open(out, "w") as f:
    for kind, values in kinds.items():
        if not values:
            print(f"schemathesis: the demo has no {kind}", file=sys.stderr)
            continue
        f.write(f"[dictionaries.{kind}]\nvalues = {json.dumps(values)}\n\n")
    for kind, values in kinds.items():
        if values:
            f.write(f"[[operations]]\ninclude-path-regex = {json.dumps(paths[kind])}\n")
            f.write(f'parameters = {{ "path.id" = {{ dictionary = "{kind}", probability = 0.7 }} }}\n\n')
print(f"schemathesis: ids of the demo: " + ", ".join(f"{len(v)} {k}" for k, v in kinds.items()))
