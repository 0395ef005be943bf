"""JSON request and response bodies: recognised by their fields, every base64 field inside inspected.

The names are the X API 2.167 ones (`kit/spec/x-api-chat-openapi.json`); the SDK's own names
(`encrypted_key`, `key_version`) are recognised too, with a note saying what the API calls them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kit.errors import KitError, Problem
from kit.inspector.context import Context
from kit.inspector.detect import from_text
from kit.inspector.model import Field, Inspection, preview
from kit.inspector.values import conversation_id_notes, signature_version_notes, version_notes
from kit.keys import PublicKeys, fingerprint

__all__ = ["HINTS", "from_json", "generic_strings"]

#: Where a base64 field of this name is found, what it is.
HINTS = {
    "encrypted_conversation_key": "wrapped-conversation-key",
    "encrypted_key": "wrapped-conversation-key",
    "encoded_message_event_detail": "key-change-detail",
    "signature": "signature",
    "identity_public_key_signature": "signature",
    "signing_public_key_signature": "signature",
    "public_key": "public-key-spki",
    "signing_public_key": "public-key-spki",
    "identity_public_key": "public-key-spki",
    "public_key_fingerprint": "fingerprint",
    "encoded_message_create_event": "message-create-event",
    "encoded_message_event_signature": "message-event-signature",
    "encoded_event": "message-event",
    "encoded_message_event": "message-event",
    "conversation_key_events": "message-event",
    "conversation_key_change_event": "message-event",
}
_PLACEHOLDER = "<string>"
_MAX_FIELDS = 200
_MAX_BINDINGS = 20


class _Body:
    """Fields, notes and nested inspections collected while walking one JSON body."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.fields: list[Field] = []
        self.notes: list[str] = []
        self.inner: list[Inspection] = []
        self.placeholders = 0
        self.carried_keys = False

    def walk(self, value: Any, path: str, key: str = "", depth: int = 0) -> None:
        if depth > 12 or len(self.fields) >= _MAX_FIELDS:
            return
        if isinstance(value, dict):
            for k, v in value.items():
                self.walk(v, f"{path}.{k}", str(k), depth + 1)
        elif isinstance(value, list):
            for i, v in enumerate(value[:_MAX_FIELDS]):
                self.walk(v, f"{path}[{i}]", key, depth + 1)
        else:
            self.leaf(value, path, key)

    def leaf(self, value: Any, path: str, key: str) -> None:
        if key == "signature_payload" and isinstance(value, str) and value and not value.startswith(SECRET_FREE_PAYLOADS):
            self.notes.append(f"{path} is set: for a key change it would hold the plaintext conversation key; "
                              "the SDK leaves it empty and so should you")  # fmt: skip
        if key in ("signing_public_key", "member_id") and ".message_event_signature" in path:
            self.carried_keys = True
        if isinstance(value, str) and value == _PLACEHOLDER:
            self.placeholders += 1
            self.fields.append(Field(None, None, path, "'<string>'", "placeholder"))
            return
        shown = preview(value) if isinstance(value, str) else repr(value)
        note = ""
        hint = HINTS.get(key)
        if isinstance(value, str) and hint and value and self.ctx.spend():
            sub = from_text(value, self.ctx, hint=hint, where=path)
            self.inner.append(sub)
            note = sub.kind if sub.kind != "unknown" else "not base64 of what belongs here"
            if sub.secret:
                shown = "(hidden)"
        elif key in ("conversation_key_version", "version") and isinstance(value, str):
            self.notes += [f"{path}: {n}" for n in version_notes(value, key)]
        elif key in ("public_key_version", "signature_version", "member_id", "user_id") and isinstance(value, str):
            if not (value.isascii() and value.isdigit()):
                self.notes.append(f"{path} {value!r} must be decimal digits")
            elif key == "signature_version":
                self.notes += [f"{path}: {n}" for n in signature_version_notes(value, key_change=True)]
        elif key == "conversation_id" and isinstance(value, str):
            self.notes += [f"{path}: {n}" for n in conversation_id_notes(value, canonical=False)]
        elif key == "signature_payload" and isinstance(value, str) and value.startswith(SECRET_FREE_PAYLOADS):
            note = "the signed text of a group action or a delete: it holds no secret, and the server checks it"
        elif key == "signature_payload" and isinstance(value, str) and value:
            note = "never send for a key change"
            shown = f"(hidden: {len(value)} chars)"
        self.fields.append(Field(None, None, path, shown, note))

    def done(self, kind: str, summary: str, decoded: Any = None) -> Inspection:
        if self.placeholders:
            self.notes.insert(0, f"{self.placeholders} values are the placeholder '<string>' of the API reference's "
                                 "sample request, not values: make them with kit.prepare_key_init (or the SDK's "
                                 "prepare_conversation_key_change) and inspect that")  # fmt: skip
        if self.carried_keys:
            self.notes.append("message_event_signature carries signing keys (signing_public_key, "
                              "message_signing_key_info_list): recipients never trust keys carried in a request or an "
                              "event (chatxdk takes them from the caller), and the SDK does not send them")  # fmt: skip
        if len(self.fields) >= _MAX_FIELDS:
            self.notes.append(f"only the first {_MAX_FIELDS} values are listed")
        return Inspection(kind, summary, tuple(self.fields), tuple(self.notes), inner=tuple(self.inner),
                          encoding="JSON", decoded=decoded)  # fmt: skip


#: Signed texts that hold no secret (group actions, deletes): the SDK sends them as `signature_payload`.
SECRET_FREE_PAYLOADS = ("GroupChangeEvent.", "MessageDeleteEvent,")


def _group_create(obj: dict[str, Any], ctx: Context) -> Inspection:
    i = _init(obj, ctx)  # the same participants, key change and signatures, plus the signed GroupCreate
    members = obj.get("group_members")
    actions = obj.get("action_signatures")
    n = len(members) if isinstance(members, list) else 0
    notes = i.notes
    if not isinstance(actions, list) or len(actions) < 2:
        notes += ("one action signature: X expects two for a group create (the key change and the signed "
                  "GroupCreate, as kit.prepare_group_create and the SDK's prepare_group_create make them)",)
    summary = (f"group create (POST /2/chat/conversations/group): {n} member(s), "
               f"{len(actions) if isinstance(actions, list) else 0} action signature(s)")
    return replace(i, kind="group-create-request", summary=summary, notes=notes)


def _members_add(obj: dict[str, Any], ctx: Context) -> Inspection:
    i = _init(obj, ctx)  # a new key for the whole new roster, plus the signed member add
    added = obj.get("user_ids")
    n = len(added) if isinstance(added, list) else 0
    summary = (f"member add (POST /2/chat/conversations/{{id}}/members): {n} new member(s), key version "
               f"{obj.get('conversation_key_version')}")
    return replace(i, kind="members-add-request", summary=summary)


def _delete(obj: dict[str, Any], ctx: Context) -> Inspection:
    b = _Body(ctx)
    b.walk(obj, "$")
    ids = obj.get("sequence_ids")
    n = len(ids) if isinstance(ids, list) else 0
    if not obj.get("action_signatures"):
        b.notes.append("no action_signatures: a delete is a signed action (kit.prepare_delete signs it)")
    return b.done("delete-request", f"delete (POST /2/chat/conversations/{{id}}/messages/delete): {n} message(s), "
                                    f"{obj.get('delete_message_action')}")  # fmt: skip


def _problem(obj: dict[str, Any], ctx: Context) -> Inspection:
    from kit.inspector.troubleshoot import explain

    b = _Body(ctx)
    b.walk(obj, "$")
    problem = Problem.from_dict(obj)
    e = explain(problem)
    b.notes += [f"cause: {e.cause}", f"fix: {e.fix}", f"see: {e.see}"]
    status = f"{problem.status} " if problem.status is not None else ""
    return b.done("problem", f"problem {status}{problem.kind}: {preview(problem.detail or problem.title)}", problem)


def _init(obj: dict[str, Any], ctx: Context) -> Inspection:
    b = _Body(ctx)
    b.walk(obj, "$")
    entries = obj.get("conversation_participant_keys")
    sdk_shape = "participant_keys" in obj and entries is None
    if sdk_shape:
        entries = obj.get("participant_keys")
        b.notes.append("this is the SDK's prepare_conversation_key_change output, not the API body: the body's list is "
                       "conversation_participant_keys, and each action signature nests signature, public_key_version and "
                       "signature_version in message_event_signature")  # fmt: skip
    entries = entries if isinstance(entries, list) else []
    for i, e in enumerate(entries[:200]):
        if not isinstance(e, dict):
            continue
        if "encrypted_key" in e:
            b.notes.append(f"$.conversation_participant_keys[{i}] uses the SDK's name encrypted_key: the API calls it "
                           "encrypted_conversation_key (the sandbox answers 400 '... encrypted_conversation_key is required')")  # fmt: skip
        if "key_version" in e:
            b.notes.append(f"$.conversation_participant_keys[{i}] uses key_version (the SDK's input name): the API calls "
                           "it public_key_version")  # fmt: skip
    actions = obj.get("action_signatures")
    if not actions:
        b.notes.append("no action_signatures: the API checks them at its boundary and answers 400 without one")
    elif isinstance(actions, list):
        for i, a in enumerate(actions[:20]):
            if not isinstance(a, dict):
                continue
            sig = a.get("message_event_signature")
            missing = [k for k in ("message_id", "encoded_message_event_detail") if not a.get(k)]
            if not isinstance(sig, dict):
                missing.append("message_event_signature")
            else:
                missing += [f"message_event_signature.{k}" for k in ("signature", "public_key_version", "signature_version")
                            if not sig.get(k)]  # fmt: skip
            if missing and not sdk_shape:
                b.notes.append(f"$.action_signatures[{i}] lacks {', '.join(missing)}: the API answers 400")
    _compare_detail(obj, entries, b)
    version = obj.get("conversation_key_version")
    n = len(entries)
    summary = (f"init request (POST /2/chat/conversations/{{id}}/keys): key version {version}, {n} participant"
               f"{'' if n == 1 else 's'}, {len(actions) if isinstance(actions, list) else 0} action signature(s)")
    return b.done("init-request", summary)


def _compare_detail(obj: dict[str, Any], entries: list[Any], b: _Body) -> None:
    """The signed detail must describe the body: same version, same participant triples."""
    detail = next((i for i in b.inner if i.kind == "key-change-detail" and i.decoded is not None), None)
    if detail is None:
        return
    d = detail.decoded
    version = obj.get("conversation_key_version")
    if isinstance(version, str) and d.conversation_key_version != version:
        b.notes.append(f"the detail says conversation_key_version {d.conversation_key_version!r} but the body says "
                       f"{version!r}: the API answers 400")  # fmt: skip
    body = sorted(tuple(str(x) for x in (e.get("user_id"), e.get("encrypted_conversation_key", e.get("encrypted_key")),
                                         e.get("public_key_version")))
                  for e in entries if isinstance(e, dict))  # fmt: skip
    signed = sorted((p.user_id, p.encrypted_conversation_key, p.public_key_version) for p in d.participant_keys)
    if body and body != signed:
        b.notes.append("the participants in the detail differ from conversation_participant_keys (user_id, wrapped key "
                       "and public_key_version must match, in any order): the API answers 400")  # fmt: skip
    elif body:
        b.notes.append("the signed detail matches the body's participants and version")


def _record_notes(rec: dict[str, Any], path: str, b: _Body) -> None:
    try:
        pk = PublicKeys(  # the binding does not depend on who or which version: placeholders for both
            user_id="1",
            version="1",
            public_key=str(rec.get("public_key", "")),
            signing_public_key=str(rec.get("signing_public_key", "")),
            identity_public_key_signature=str(rec.get("identity_public_key_signature", "")),
            signing_public_key_signature=str(rec.get("signing_public_key_signature", "")),
        )
        pk.verify_binding()
    except KitError as exc:
        b.notes.append(f"{path}: the key binding does not verify ({exc}): do not wrap to this key")
        return
    both = " (both ways)" if rec.get("signing_public_key_signature") else ""
    b.notes.append(f"{path}: the key binding verifies{both}: the signing key signed this identity key")
    fp = rec.get("public_key_fingerprint")
    if isinstance(fp, str) and fp and fp != fingerprint(pk.public_key):
        b.notes.append(f"{path}.public_key_fingerprint is not SHA-256 of public_key (base64url)")


def _registration(obj: dict[str, Any], ctx: Context) -> Inspection:
    b = _Body(ctx)
    b.walk(obj, "$")
    rec = obj["public_key"]
    _record_notes(rec, "$.public_key", b)
    method = rec.get("registration_method")
    if method is not None and method != "CustomPin":
        b.notes.append(f"registration_method {method!r}: the SDK only ever sends 'CustomPin'")
    return b.done("public-keys-registration", f"public keys registration (POST /2/users/{{id}}/public_keys): version "
                  f"{obj.get('version')}, generate_version {obj.get('generate_version')}")  # fmt: skip


def _public_keys(obj: dict[str, Any], ctx: Context) -> Inspection:
    b = _Body(ctx)
    b.walk(obj, "$")
    records = obj["data"] if isinstance(obj["data"], list) else [obj["data"]]
    versions: dict[str, list[str]] = {}
    for i, rec in enumerate(records[:_MAX_BINDINGS]):
        if isinstance(rec, dict):
            uid = str(rec.get("user_id", "0"))
            _record_notes(rec, f"$.data[{i}]", b)
            versions.setdefault(uid, []).append(str(rec.get("public_key_version", "")))
    for uid, vs in versions.items():
        digits = [v for v in vs if v.isdigit()]
        if len(digits) > 1:
            who = f"user {uid}" if uid != "0" else "this user"
            b.notes.append(f"{who} has {len(digits)} key versions: the newest is {max(digits, key=int)} (compare numerically)")
    return b.done("public-keys-response", f"public keys answer: {len(records)} record{'' if len(records) == 1 else 's'}")


def _events(obj: dict[str, Any], ctx: Context) -> Inspection:
    b = _Body(ctx)
    meta = obj.get("meta") if isinstance(obj.get("meta"), dict) else {}
    b.walk(meta, "$.meta")  # key changes first: the keys they hold open the messages after them
    b.walk({k: v for k, v in obj.items() if k != "meta"}, "$")
    data = obj.get("data") if isinstance(obj.get("data"), list) else []
    kcs = meta.get("conversation_key_events") or []
    opened = sum(1 for i in b.inner if i.find("message-plaintext") is not None)
    summary = (f"events answer: {len(data)} event{'' if len(data) == 1 else 's'} in data, {len(kcs)} key-change event"
               f"{'' if len(kcs) == 1 else 's'} in meta" + (f", {opened} message(s) opened" if opened else ""))
    if data and not kcs and not ctx.conversation_keys and ctx.any_key is None:
        b.notes.append("no meta.conversation_key_events: a recipient needs the key changes to read these messages")
    return b.done("events-response", summary)


def _send(obj: dict[str, Any], ctx: Context) -> Inspection:
    b = _Body(ctx)
    b.walk(obj, "$")
    if not obj.get("encoded_message_event_signature"):
        b.notes.append("no encoded_message_event_signature: optional in the schema, but recipients reject unsigned messages")
    if not obj.get("message_id"):
        b.notes.append("no message_id: required (the client mints a UUID, and signs it)")
    return b.done("send-message-request", f"send message request (POST /2/chat/conversations/{{id}}/messages): message "
                  f"{obj.get('message_id')}")  # fmt: skip


def from_json(obj: Any, ctx: Context) -> Inspection:
    """A parsed JSON value: which body it is, its values, and an inspection of each base64 field."""
    if isinstance(obj, dict):
        data = obj.get("data")
        if isinstance(obj.get("type"), str) and ("title" in obj or "detail" in obj):
            return _problem(obj, ctx)
        if "group_members" in obj and "action_signatures" in obj:
            return _group_create(obj, ctx)
        if "user_ids" in obj and "action_signatures" in obj:
            return _members_add(obj, ctx)
        if "sequence_ids" in obj and "delete_message_action" in obj:
            return _delete(obj, ctx)
        if "conversation_participant_keys" in obj or "participant_keys" in obj or (
            "action_signatures" in obj and "conversation_key_version" in obj
        ):
            return _init(obj, ctx)
        if isinstance(obj.get("public_key"), dict):
            return _registration(obj, ctx)
        if "encoded_message_create_event" in obj:
            return _send(obj, ctx)
        if "meta" in obj and isinstance(obj["meta"], dict) and "conversation_key_events" in obj["meta"] or (
            isinstance(data, list) and data and isinstance(data[0], dict) and "encoded_event" in data[0]
        ):
            return _events(obj, ctx)
        records = data if isinstance(data, list) else [data]
        if data and all(isinstance(r, dict) and "public_key" in r and "signing_public_key" in r for r in records):
            return _public_keys(obj, ctx)
        if isinstance(data, dict) and "encoded_message_event" in data:
            b = _Body(ctx)
            b.walk(obj, "$")
            return b.done("send-message-response", "send message answer: the stored message event")
        if isinstance(data, dict) and "sequence_id" in data:
            b = _Body(ctx)
            b.walk(obj, "$")
            return b.done("keys-response", f"keys answer: conversation {data.get('conversation_id')}, sequence id "
                          f"{data.get('sequence_id')} (reuse this conversation id)")  # fmt: skip
        errors = obj.get("errors")
        if data is None and isinstance(errors, list) and errors and isinstance(errors[0], dict):
            inner = from_json(errors[0], ctx)
            if inner.kind == "problem":
                return replace(inner, summary=f"{len(errors)} error(s); the first: {inner.summary}")
        if isinstance(obj.get("code"), int) and isinstance(obj.get("message"), str):
            b = _Body(ctx)
            b.walk(obj, "$")
            return b.done("problem", f"error {obj['code']}: {preview(obj['message'])} (the API's plain Error shape)")
    b = _Body(ctx)
    b.walk(obj, "$")
    b.inner += generic_strings(obj, ctx)
    found = [i for i in b.inner if i.kind != "unknown"]
    inspection = b.done("unknown", f"JSON the kit does not recognise as a request or an answer"
                        + (f"; {len(found)} value(s) inside it do decode" if found else ""))  # fmt: skip
    return inspection


def generic_strings(obj: Any, ctx: Context, limit: int = 32) -> list[Inspection]:
    """Inspections of long strings anywhere in `obj` that decode to a known kind (for unknown JSON)."""
    out: list[Inspection] = []

    def visit(v: Any, path: str, depth: int) -> None:
        if len(out) >= limit or depth > 12:
            return
        if isinstance(v, dict):
            for k, x in v.items():
                if k not in HINTS:  # those are inspected by name already
                    visit(x, f"{path}.{k}", depth + 1)
        elif isinstance(v, list):
            for i, x in enumerate(v[:limit]):
                visit(x, f"{path}[{i}]", depth + 1)
        elif isinstance(v, str) and len(v) >= 24 and ctx.spend():
            i = from_text(v, ctx, where=path)
            if i.kind != "unknown":
                out.append(i)

    visit(obj, "$", 0)
    return out
