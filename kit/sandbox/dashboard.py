"""The room's dashboard at `/`: a page for the projector, and the JSON it polls.

- `GET /`: server-rendered HTML (who is in, the conversations), no build step and nothing from
  elsewhere: its script and style come from `/sandbox/static/...` (files in `kit/sandbox/static`)
  and a Content-Security-Policy allows nothing else. The script refreshes it every 2 s.
- `GET /sandbox/dashboard.json`: members (name, user id, fingerprint, key versions), the pairs and
  groups with initialized keys (id, latest key version, participants, key changes, messages).
- `GET /sandbox/dashboard/events?id=<conversation>`: **what the server sees** of one
  conversation: its stored events as bytes (base64), the wrapped conversation keys, signatures
  and sealed messages taken apart. Never plaintext: the server has none.

All of it is public to the room, as the projector is: names, ids, public keys and ciphertext.
The operator's buttons (Revoke, Free name, Reset room) appear when the page is opened with the
operator link (``/#operator=<token>``): the token stays in the URL fragment, which a browser never
sends, and the page's script sends it as a bearer header to `/sandbox/operator/...`.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from typing import Any

from kit.encoding import b64
from kit.errors import APIError, KitError
from kit.ids import ConversationId
from kit.keys import fingerprint
from kit.sandbox.calls import Context, iso_time
from kit.sandbox.reply import Reply, json_reply
from kit.sandbox.store import Store
from kit.thrift import KeyChangeDetail, MessageCreateEvent, read_message_event

__all__ = ["MAX_LISTED", "MAX_SHOWN_EVENTS", "STATIC_FILES", "Dashboard"]

#: Members and conversations the dashboard lists at most (a projector shows a few dozen).
MAX_LISTED = 500
#: Events of one conversation "what the server sees" shows (the newest).
MAX_SHOWN_EVENTS = 50

#: The files the page loads, by URL path, with their content type.
STATIC_FILES: dict[str, tuple[str, str]] = {
    "/sandbox/static/dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8"),
    "/sandbox/static/dashboard.css": ("dashboard.css", "text/css; charset=utf-8"),
}

_HEADERS = {
    "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


class Dashboard:
    """Reads the store for the page; writes nothing."""

    def __init__(self, context: Context) -> None:
        self.ctx = context

    # ------------------------------------------------------------------ data

    def members(self) -> list[dict[str, Any]]:
        """Every user in join order: the room name (None for an API-made user), id, fingerprint of
        the newest key version, key versions newest first, and whether they were revoked."""
        rows = self.ctx.store.read(
            "SELECT u.id, r.name, u.username, u.revoked FROM users u LEFT JOIN room_names r ON r.user_id = u.id "
            "ORDER BY u.rowid LIMIT ?",
            (MAX_LISTED,),
        )
        keys: dict[str, list[tuple[str, str]]] = {}
        for user_id, version, record in self.ctx.store.read(
            "SELECT user_id, version, record FROM public_keys ORDER BY version_num DESC"
        ):
            keys.setdefault(str(user_id), []).append((str(version), str(record)))
        out = []
        for user_id, name, username, revoked in rows:
            mine = keys.get(str(user_id), [])
            out.append({
                "id": str(user_id),
                "name": name if name is not None else None,
                "username": str(username),
                "fingerprint": fingerprint(json.loads(mine[0][1])["public_key"]) if mine else None,
                "key_versions": [v for v, _ in mine],
                "revoked": bool(revoked),
            })  # fmt: skip
        return out

    def conversations(self, names: dict[str, str]) -> list[dict[str, Any]]:
        """Pairs and groups with initialized keys, newest first."""
        rows = self.ctx.store.read(
            "SELECT c.id, c.kind, c.latest_key_version, c.info, c.stored_bytes, c.created_at, "
            "(SELECT COUNT(*) FROM events e WHERE e.conversation_id = c.id AND e.kind = 'key_change'), "
            "(SELECT COUNT(*) FROM events e WHERE e.conversation_id = c.id AND e.kind != 'key_change') "
            "FROM conversations c WHERE c.kind != 'group-pending' ORDER BY c.created_at DESC, c.id LIMIT ?",
            (MAX_LISTED,),
        )
        out = []
        for cid_text, kind, latest, info, stored, created_at, key_changes, messages in rows:
            cid = ConversationId(str(cid_text))
            if cid.is_group:
                ids = [str(r[0]) for r in self.ctx.store.read("SELECT user_id FROM members WHERE conversation_id = ?", (cid.canonical,))]
            else:
                ids = list(cid.members)
            entry: dict[str, Any] = {
                "id": cid.path,
                "kind": "group" if cid.is_group else "pair",
                "latest_key_version": latest,
                "participants": [{"id": u, "name": names.get(u)} for u in ids],
                "key_changes": int(key_changes),
                "messages": int(messages),
                "stored_bytes": int(stored),
                "created_at": iso_time(int(created_at)),
            }
            if kind == "group" and json.loads(info).get("group_name"):
                entry["group_name"] = json.loads(info)["group_name"]
            out.append(entry)
        return out

    def data(self, version: str) -> dict[str, Any]:
        """The dashboard's state: the room's counts, members and conversations."""
        members = self.members()
        names = {m["id"]: m["name"] or "@" + m["username"] for m in members}
        conversations = self.conversations(names)
        users = self.ctx.store.read("SELECT COUNT(*) FROM users")[0][0]
        return {
            "version": version,
            "users": int(users),
            "members": members,
            "conversations": conversations,
        }

    def events(self, conversation: str) -> dict[str, Any]:
        """What the server holds of one conversation: its newest stored events, as bytes."""
        try:
            cid = ConversationId.parse(conversation)
        except KitError as exc:
            raise APIError.of(400, f"query parameter id: {exc}", parameter="id") from None
        rows = self.ctx.store.read(
            "SELECT seq, conversation_id, kind, message_id, sender_id, key_version, request_digest, encoded, created_at "
            "FROM events WHERE conversation_id = ? ORDER BY seq DESC LIMIT ?",
            (cid.canonical, MAX_SHOWN_EVENTS),
        )
        if not rows and not self.ctx.store.read("SELECT 1 FROM conversations WHERE id = ?", (cid.canonical,)):
            raise APIError.of(404, f"conversation {cid.path} has no stored events", resource_type="conversation", value=cid.path)
        total = self.ctx.store.read("SELECT COUNT(*) FROM events WHERE conversation_id = ?", (cid.canonical,))[0][0]
        names = {str(u): str(n) for u, n in self.ctx.store.read("SELECT user_id, name FROM room_names")}
        return {
            "id": cid.path,
            "events": [self._event(Store.event_from(r), names) for r in reversed(rows)],
            "shown": len(rows),
            "stored": int(total),
        }

    @staticmethod
    def _event(event: Any, names: dict[str, str]) -> dict[str, Any]:
        def who(user_id: str) -> str:
            return f"{names[user_id]} ({user_id})" if user_id in names else user_id

        out: dict[str, Any] = {
            "sequence_id": event.sequence_id,
            "kind": event.kind,
            "sender_id": event.sender_id,
            "sender": who(event.sender_id),
            "key_version": event.key_version,
            "created_at": iso_time(event.created_at),
            "bytes": len(event.encoded),
            "encoded_event": b64(event.encoded),
        }
        parts: list[dict[str, str]] = []
        try:
            decoded = read_message_event(event.encoded)
            detail = decoded.read_detail()
        except KitError:  # a kind this kit does not take apart: the bytes alone
            out["parts"] = parts
            return out
        if isinstance(detail, KeyChangeDetail):
            for p in detail.participant_keys:
                parts.append({
                    "label": f"conversation key {detail.conversation_key_version} wrapped for {who(p.user_id)} (their key version {p.public_key_version})",
                    "base64": p.encrypted_conversation_key,
                })  # fmt: skip
        elif isinstance(detail, MessageCreateEvent):
            parts.append({
                "label": f"sealed message, {len(detail.contents)} bytes (nonce, ciphertext and tag under conversation key {detail.conversation_key_version})",
                "base64": b64(detail.contents),
                "hex": detail.contents[:32].hex(" "),
            })  # fmt: skip
        if decoded.signature is not None:
            parts.append({
                "label": f"signature by {who(event.sender_id)} (key version {decoded.signature.public_key_version})",
                "base64": decoded.signature.signature,
            })  # fmt: skip
        out["parts"] = parts
        return out

    # ------------------------------------------------------------------ replies

    def page(self, version: str) -> Reply:
        """GET /: the page, rendered with the current state (the script keeps it current)."""
        data = self.data(version)
        return Reply(200, {"content-type": "text/html; charset=utf-8", **_HEADERS}, _render(data).encode("utf-8"))

    def data_reply(self, version: str) -> Reply:
        return json_reply(200, {"data": self.data(version)}, {"cache-control": "no-store"})

    def events_reply(self, query: list[tuple[str, str]]) -> Reply:
        ids = [v for k, v in query if k == "id"]
        if len(ids) != 1 or any(k != "id" for k, _ in query) or len(ids[0]) > 64:
            raise APIError.of(400, "give one conversation as ?id=<conversation id> (e.g. 1001-2002 or g123), nothing else", parameter="id")
        return json_reply(200, {"data": self.events(ids[0])}, {"cache-control": "no-store"})

    @staticmethod
    def static(path: str) -> Reply:
        name, ctype = STATIC_FILES[path]
        body = resources.files("kit.sandbox").joinpath("static", name).read_bytes()
        return Reply(200, {"content-type": ctype, **_HEADERS, "cache-control": "no-cache"}, body)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _render(data: dict[str, Any]) -> str:
    """The whole page; every value from the store is escaped."""
    member_rows = "".join(
        f'<tr data-user="{_e(m["id"])}"{" class=revoked" if m["revoked"] else ""}>'
        f'<td class="name">{_e(m["name"] or "@" + m["username"])}</td><td class="id">{_e(m["id"])}</td>'
        f'<td class="fp">{_e(m["fingerprint"] or "no keys yet")}</td><td>{_e(", ".join(m["key_versions"]))}</td>'
        '<td class="actions"></td></tr>'
        for m in data["members"]
    )
    conversation_rows = "".join(
        f'<tr data-conversation="{_e(c["id"])}"><td class="id">{_e(c["id"])}</td><td>{_e(c["kind"])}</td>'
        f'<td>{_e(", ".join(p["name"] or p["id"] for p in c["participants"]))}</td>'
        f'<td>{_e(c["latest_key_version"])}</td><td>{c["key_changes"]}</td><td>{c["messages"]}</td></tr>'
        for c in data["conversations"]
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>xchat-kit room</title>
<link rel="stylesheet" href="/sandbox/static/dashboard.css">
<script src="/sandbox/static/dashboard.js" defer></script>
</head>
<body>
<header>
  <h1>xchat-kit room</h1>
  <p id="summary"><span id="count-members">{sum(not m["revoked"] for m in data["members"])}</span> in the room,
  <span id="count-conversations">{len(data["conversations"])}</span> conversations with keys · kit {_e(data["version"])}
  · <span id="updated">rendered by the server</span></p>
  <p id="operator-bar" hidden>Operator mode <button type="button" id="reset-room">Reset room</button>
  <span id="operator-result" role="status"></span></p>
  <p id="operator-warning" hidden></p>
</header>
<main>
<section id="members">
  <h2>Who is in</h2>
  <table><thead><tr><th>Name</th><th>User id</th><th>Fingerprint</th><th>Key versions</th><th class="actions"></th></tr></thead>
  <tbody id="member-rows">{member_rows}</tbody></table>
</section>
<section id="conversations">
  <h2>Pairs and groups with keys</h2>
  <table><thead><tr><th>Conversation</th><th>Kind</th><th>Participants</th><th>Latest key version</th><th>Key changes</th><th>Messages</th></tr></thead>
  <tbody id="conversation-rows">{conversation_rows}</tbody></table>
  <p class="hint">Click a conversation to see what the server holds of it.</p>
</section>
<section id="server-sees">
  <h2>What the server sees <span id="server-sees-id"></span></h2>
  <p class="hint">The stored events as bytes: conversation keys wrapped for each participant, signatures,
  sealed messages. No plaintext and no conversation key: the server never had them.</p>
  <div id="server-sees-events"></div>
</section>
</main>
</body>
</html>
"""
