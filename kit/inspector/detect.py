"""Bytes to an inspection: which kind the bytes are, laid out field by field, with notes.

Every reader used here is the kit's own (`kit.points`, `kit.thrift` with its length, depth and value
budgets, `kit.wrap`, `kit.message`): the inspector decides nothing about the wire format itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from kit import thrift
from kit.errors import KitError
from kit.inspector.context import Context
from kit.inspector.decode import Reading
from kit.inspector.fixed_size import fixed_size
from kit.inspector.model import Field, Inspection, hex_pairs, preview, utc_time
from kit.inspector.signed_text import read_signed_payload
from kit.inspector.values import conversation_id_notes, digits_note, signature_version_notes, version_notes
from kit.message import open_text
from kit.protocol import read_key_change
from kit.signature import message_payload

__all__ = ["MAX_PARTICIPANTS", "PADDED", "from_bytes", "from_text", "spelling_notes"]

#: Participants of a key change inspected one by one (the rest are counted).
MAX_PARTICIPANTS = 16
#: Kinds the API writes in padded standard base64.
PADDED = {
    "public-key-spki", "public-key-sec1", "wrapped-conversation-key", "key-change-detail", "message-detail",
    "event-detail", "message-event", "message-create-event", "message-event-signature",
}  # fmt: skip


# ----------------------------------------------------------------------------- Thrift


def _runs(data: bytes, struct: str) -> list[thrift.FieldRun]:
    return thrift.walk(data, struct=struct)


def _show(run: thrift.FieldRun) -> str:
    if run.ttype is None:
        return f"end of {run.struct or 'struct'}"
    if run.ttype == thrift.STRUCT:
        return f"→ {run.sub or 'struct'}"
    if run.ttype in (thrift.LIST, thrift.SET) and run.value and isinstance(run.value[0], thrift.Struct):
        return f"{len(run.value)} × {run.sub or 'struct'}"
    if run.ttype in (thrift.LIST, thrift.SET):
        return f"{len(run.value)} elements"
    if run.ttype == thrift.MAP:
        return f"{len(run.value)} entries"
    if run.ttype == thrift.STRING:
        try:
            text = bytes(run.value).decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is None or not text.isprintable():
            return f"{len(run.value)} bytes: {hex_pairs(run.value, 8)}"
        if run.name.endswith("_msec") and text.isdigit() and len(text) < 20:
            return f"{utc_time(text)} ({len(text)} digits)"
        return preview(text)
    if run.ttype == thrift.BOOL:
        return "true" if run.value else "false"
    return repr(run.value)


def _thrift_fields(data: bytes, struct: str, note: Callable[[thrift.FieldRun, str], str] | None = None) -> tuple[Field, ...]:
    out = []
    for run in _runs(data, struct):
        tag = f"[{run.element}] " if run.element is not None else ""
        name = f"{'· ' * run.depth}{tag}{run.name}"
        text = ""
        if run.ttype == thrift.STRING:
            try:
                text = bytes(run.value).decode("utf-8")
            except UnicodeDecodeError:
                text = ""
        out.append(Field(run.offset, run.length, name, _show(run), note(run, text) if note else ""))
    return tuple(out)


def _text_of(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _detail(data: bytes, ctx: Context) -> Inspection | None:
    try:
        decoded = thrift.read_detail(data)
    except KitError:
        return None
    if isinstance(decoded, thrift.KeyChangeDetail):
        return _key_change_detail(data, decoded, ctx)
    if isinstance(decoded, thrift.MessageCreateEvent):
        inner = _sealed_inner(decoded, ctx, "messageCreateEvent.contents")
        return Inspection("message-detail",
                          f"message detail, {len(data)} bytes: MessageEventDetail field 1 = MessageCreateEvent "
                          f"(key version {decoded.conversation_key_version}, {len(decoded.contents)}-byte sealed message)",
                          _thrift_fields(data, "MessageEventDetail"), tuple(version_notes(decoded.conversation_key_version)),
                          inner=inner, data=data, decoded=decoded)  # fmt: skip
    if isinstance(decoded, thrift.DeleteDetail):
        scope = "for all" if decoded.delete_for_all else "for self"
        return Inspection("event-detail",
                          f"delete detail, {len(data)} bytes: MessageEventDetail field 7 = MessageDeleteEvent "
                          f"({len(decoded.sequence_ids)} sequence id(s), {scope}): a signed plaintext action, no key involved",
                          _thrift_fields(data, "MessageEventDetail"), data=data, decoded=decoded)  # fmt: skip
    return Inspection("event-detail", f"event detail, {len(data)} bytes: MessageEventDetail field {decoded.field_id} "
                      f"= {decoded.name} (the kit reads key changes, messages and deletes)",
                      _thrift_fields(data, "MessageEventDetail"), data=data, decoded=decoded)  # fmt: skip


def _key_change_detail(data: bytes, d: thrift.KeyChangeDetail, ctx: Context) -> Inspection:
    notes = version_notes(d.conversation_key_version, "conversation_key_version")
    users = [p.user_id for p in d.participant_keys]
    dupes = sorted({u for u in users if users.count(u) > 1}) if len(users) <= 1000 else []
    if dupes:
        notes.append(f"users listed more than once: {dupes} (the SDK keeps the highest key version)")
    if not d.participant_keys:
        notes.append("no participant keys: nobody can read this key")
    if d.for_key_rotation:
        notes.append("for_key_rotation is true: the SDK always writes false")
    inner = []
    for i, p in enumerate(d.participant_keys[:MAX_PARTICIPANTS]):
        if not ctx.spend():
            break
        ctx.entry_user = p.user_id
        try:
            sub = from_text(p.encrypted_conversation_key, ctx, hint="wrapped-conversation-key",
                            where=f"participant [{i}] (user {p.user_id}, key version {p.public_key_version})")  # fmt: skip
        finally:
            ctx.entry_user = None
        inner.append(sub)
    if len(d.participant_keys) > len(inner):
        notes.append(f"{len(d.participant_keys) - len(inner)} more participants not inspected one by one")

    def note(run: thrift.FieldRun, text: str) -> str:
        if run.name == "encrypted_conversation_key":
            return "base64 text of the 113-byte wrapped key" if len(text) == 152 else f"{len(text)} chars: a wrapped key is 152"
        if run.name == "conversation_key_version":
            return "the new conversation key version"
        return ""

    summary = (f"key-change detail, {len(data)} bytes: MessageEventDetail field 3 = ConversationKeyChangeEvent, "
               f"conversation key version {d.conversation_key_version}, {len(d.participant_keys)} participant"
               f"{'' if len(d.participant_keys) == 1 else 's'}")  # fmt: skip
    return Inspection("key-change-detail", summary, _thrift_fields(data, "MessageEventDetail", note), tuple(notes),
                      inner=tuple(inner), data=data, decoded=d)  # fmt: skip


def _sealed_inner(mce: thrift.MessageCreateEvent, ctx: Context, where: str) -> tuple[Inspection, ...]:
    if not ctx.spend():
        return ()
    return (_sealed(bytes(mce.contents), ctx, version=mce.conversation_key_version, where=where, known=True),)


def _sealed(data: bytes, ctx: Context, *, version: str | None, where: str = "", known: bool = False) -> Inspection:
    fields = (Field(0, 24, "nonce", hex_pairs(data[:24], 8), "24 random bytes"),
              Field(24, 16, "tag", hex_pairs(data[24:40], 8), "Poly1305 tag"),
              Field(40, len(data) - 40, "ciphertext", hex_pairs(data[40:], 8), "the Thrift plaintext, encrypted"))  # fmt: skip
    if len(data) < 40:
        return Inspection("sealed-message", f"sealed message, {len(data)} bytes: too short (nonce 24 + tag 16 = 40 at least)",
                          (Field(0, len(data), "bytes", hex_pairs(data, 8)),),
                          ("shorter than 40 bytes: the SDK refuses it",), data=data, where=where)  # fmt: skip
    keys = ctx.keys_for(version) if version is not None else ([ctx.any_key] if ctx.any_key else [])
    keys += [k for v, k in ctx.conversation_keys.items() if version is None and k not in keys]
    for key in keys:
        try:
            text = open_text(data, key)
        except KitError:
            continue
        plain = thrift.encode_text(text)
        sub = Inspection("message-plaintext", f"message plaintext, {len(plain)} bytes: text {preview(text)}",
                         _thrift_fields(plain, "MessageEntryHolder"), data=plain, where="opened", decoded=text)  # fmt: skip
        return Inspection("sealed-message", f"sealed message, {len(data)} bytes: nonce, tag, {len(data) - 40}-byte ciphertext"
                          f" (opened: {preview(text)})", fields, (f"opened with the conversation key{'' if version is None else ' of version ' + version}",),
                          inner=(sub,), data=data, where=where, decoded=text)  # fmt: skip
    notes = ()
    if keys:
        notes = ("does not open with the conversation key given: another key version, or a changed byte",)
    elif known:
        notes = (f"pass conversation_key= (the key of version {version}) to open it" if version else "pass conversation_key= to open it",)
    return Inspection("sealed-message", f"sealed message, {len(data)} bytes: nonce, tag, {len(data) - 40}-byte ciphertext",
                      fields, notes, data=data, where=where)  # fmt: skip


def _mce(data: bytes, ctx: Context) -> Inspection | None:
    try:
        mce = thrift.read_message_create_event(data)
    except KitError:
        return None
    notes = version_notes(mce.conversation_key_version)
    if len(mce.contents) < 40:
        notes.append("contents are shorter than 40 bytes: not a sealed message")
    return Inspection("message-create-event",
                      f"message create event, {len(data)} bytes: {len(mce.contents)}-byte sealed message, "
                      f"key version {mce.conversation_key_version}" + (f", ttl {mce.ttl_msec} ms" if mce.ttl_msec is not None else ""),
                      _thrift_fields(data, "MessageCreateEvent"), tuple(notes),
                      inner=_sealed_inner(mce, ctx, "contents"), data=data, decoded=mce)  # fmt: skip


def _mes(data: bytes, ctx: Context) -> Inspection | None:
    try:
        mes = thrift.read_event_signature(data)
    except KitError:
        return None
    s = thrift.read_fields(data)
    if set(s.fields) - {1, 2, 3, 4, 5}:
        return None
    notes = signature_version_notes(mes.signature_version, key_change=False) if mes.signature_version else [
        "no signature_version (field 3): send '7'"]  # fmt: skip
    notes += [n for n in [digits_note("public_key_version", mes.public_key_version)] if n]
    inner = (from_text(mes.signature, ctx, hint="signature", where="signature"),) if ctx.spend() else ()
    return Inspection("message-event-signature",
                      f"message event signature, {len(data)} bytes: signature, public_key_version {mes.public_key_version}, "
                      f"signature_version {mes.signature_version or '(none)'}",
                      _thrift_fields(data, "MessageEventSignature"), tuple(notes), inner=inner, data=data, decoded=mes)  # fmt: skip


def _event(data: bytes, ctx: Context) -> Inspection | None:
    try:
        ev = thrift.read_message_event(data)
    except KitError:
        return None
    detail = ev.read_detail()
    notes = conversation_id_notes(ev.conversation_id, canonical=True)
    inner: list[Inspection] = []
    if ctx.spend():
        sub = _detail(ev.detail, ctx)
        if sub is not None:
            inner.append(replace(sub, where="detail (field 7)"))
    what = "event"
    if isinstance(detail, thrift.KeyChangeDetail):
        what = f"key change to version {detail.conversation_key_version}"
        notes += _key_change_read(data, ev, detail, ctx)
    elif isinstance(detail, thrift.MessageCreateEvent):
        what = f"message sealed with key version {detail.conversation_key_version}"
        if ev.signature is not None and ctx.spend():
            try:
                payload = message_payload(message_id=ev.message_id, sender_id=ev.sender_id, conversation_id=ev.conversation_id,
                                          conversation_key_version=detail.conversation_key_version, sealed=detail.contents)  # fmt: skip
                inner.append(replace(read_signed_payload(payload.decode("utf-8"), ctx), where="the text its signature covers"))
            except KitError:
                pass
        notes += _message_read(data, ev, detail, ctx)
    else:
        what = f"{getattr(detail, 'name', 'event')} event"
    if ev.signature is None:
        notes.append("no message_event_signature (field 9): recipients reject it")
    else:
        notes += signature_version_notes(ev.signature.signature_version, key_change=isinstance(detail, thrift.KeyChangeDetail))
        if ctx.spend():
            inner.append(from_text(ev.signature.signature, ctx, hint="signature", where="message_event_signature.signature"))
    if ev.extra_fields:
        notes.append(f"fields the kit does not read: {list(ev.extra_fields)}")

    def note(run: thrift.FieldRun, text: str) -> str:
        if run.struct == "MessageEvent" and run.name == "conversation_id":
            return "canonical min:max (signed as stored)" if ":" in text or text.startswith("g") else "should be min:max"
        if run.struct == "MessageEvent" and run.name == "sequence_id":
            return "the server's order of events"
        return ""

    summary = (f"message event, {len(data)} bytes: {what}, from user {ev.sender_id} in {ev.conversation_id}, "
               f"sequence id {ev.sequence_id}")
    return Inspection("message-event", summary, _thrift_fields(data, "MessageEvent", note), tuple(notes),
                      inner=tuple(inner), data=data, decoded=ev)  # fmt: skip


def _key_change_read(data: bytes, ev: thrift.MessageEvent, detail: thrift.KeyChangeDetail, ctx: Context) -> list[str]:
    me = ctx.identity
    if me is None:
        return []
    if ctx.signing_keys:
        try:
            change = read_key_change(data, recipient=me, signing_keys=ctx.signing_keys)
        except KitError as exc:
            return [f"read as user {me.user_id}: {type(exc).__name__}: {exc}"]
        ctx.conversation_keys.setdefault(change.conversation_key_version, change.conversation_key)
        return [f"read as user {me.user_id}: signature verified, key of version {change.conversation_key_version} unwrapped"]
    entry = next((p for p in detail.participant_keys if p.user_id == me.user_id and p.public_key_version == me.version), None)
    if entry is None:
        return [f"no entry for user {me.user_id} at key version {me.version}"]
    try:
        key = me.unwrap(entry.encrypted_conversation_key)
    except KitError as exc:
        return [f"user {me.user_id}'s entry does not open: {exc}"]
    ctx.conversation_keys.setdefault(detail.conversation_key_version, key)
    return [f"unwrapped as user {me.user_id} (key version {detail.conversation_key_version}); signature not checked: "
            "pass signing_keys= (the sender's public keys) to check it"]  # fmt: skip


def _message_read(data: bytes, ev: thrift.MessageEvent, mce: thrift.MessageCreateEvent, ctx: Context) -> list[str]:
    keys = ctx.keys_for(mce.conversation_key_version)
    if not keys or not ctx.signing_keys:
        return []
    from kit.message import read_message

    try:
        msg = read_message(data, conversation_key=keys[0], signing_keys=ctx.signing_keys)
    except KitError as exc:
        return [f"read_message: {type(exc).__name__}: {exc}"]
    return [f"signature verified and opened: {preview(msg.text)}"]


# ----------------------------------------------------------------------------- dispatch


def _plaintext(data: bytes, ctx: Context) -> Inspection | None:
    try:
        text = thrift.read_text(data)
    except KitError:
        return None
    return Inspection("message-plaintext", f"message plaintext, {len(data)} bytes: text {preview(text)}",
                      _thrift_fields(data, "MessageEntryHolder"), data=data, decoded=text)  # fmt: skip


_THRIFT_READERS = (_event, _detail, _mce, _mes, _plaintext)
_BY_HINT = {
    "message-event": (_event,),
    "key-change-detail": (_detail,),
    "message-create-event": (_mce,),
    "message-event-signature": (_mes,),
}


def _thrift_kinds(data: bytes, ctx: Context, order: Iterable[Callable[[bytes, Context], Inspection | None]]) -> Inspection | None:
    if not data or data[-1] != 0:  # every struct ends with STOP
        return None
    for reader in order:
        found = reader(data, ctx)
        if found is not None:
            return found
    return None


def from_bytes(data: bytes, ctx: Context, reading: Reading | None = None, *, hint: str | None = None) -> Inspection:
    """The inspection of raw bytes (`reading` says how they were written, `hint` what the context expects)."""
    n = len(data)
    found: Inspection | None = None
    if hint in _BY_HINT:
        found = _thrift_kinds(data, ctx, _BY_HINT[hint])
    if found is None:
        found = fixed_size(data, ctx, reading, hint)
    if found is None:
        found = _thrift_kinds(data, ctx, _THRIFT_READERS)
    if found is None and hint == "sealed-message" or found is None and n >= 40 and (ctx.any_key or ctx.conversation_keys):
        sealed = _sealed(data, ctx, version=None)
        if sealed.decoded is not None or hint == "sealed-message":
            found = sealed
    if found is None:
        alts = ("sealed-message",) if n >= 40 else ()
        notes = ["if this is a sealed message, pass conversation_key= to open it"] if alts else []
        found = Inspection("unknown", f"{n} bytes that are none of the kinds the kit knows",
                           (Field(0, n, "bytes", hex_pairs(data, 16)),), tuple(notes), alternatives=alts, data=data)  # fmt: skip
    if reading is not None:
        found = replace(found, encoding=reading.spelling, notes=found.notes + tuple(spelling_notes(found, reading)))
    if found.secret:
        found = replace(found, data=b"")
    return found


def spelling_notes(i: Inspection, reading: Reading) -> list[str]:
    """What the API would have wanted instead of how the bytes were written, for this kind."""
    notes = []
    if reading.encoding == "hex" and i.kind in PADDED | {"signature"}:
        notes.append("hex: the API and the SDK exchange this as base64")
    if reading.encoding != "base64":
        return notes
    if reading.urlsafe and i.kind != "fingerprint":
        extra = " (chatxdk: 'Invalid signature length')" if i.kind == "signature" else ""
        notes.append(f"URL-safe base64 ('-', '_'): the API and the SDK use the standard alphabet ('+', '/'){extra}")
    if reading.padded is False and i.kind in PADDED:
        notes.append("base64 without padding: the API writes this padded with '=' (only action and message signatures go unpadded)")
    if reading.padded is True and i.kind == "signature" and not i.secret:
        notes.append("padded base64: action and message signatures go unpadded (86 chars); "
                     "registration signatures are padded; chatxdk reads either")  # fmt: skip
    return notes


def from_text(text: str, ctx: Context, *, hint: str | None = None, where: str = "") -> Inspection:
    """A base64 (or hex) string found inside a larger value, inspected with what its place says it is."""
    from kit.inspector.decode import readings

    found, _ = readings(text)
    if hint == "signature" and found:
        found = [r for r in found if r.encoding == "base64"] or found
    for r in found:
        i = from_bytes(r.data, ctx, r, hint=hint)
        if i.kind != "unknown":
            return replace(i, where=where)
    if hint == "signature" and text and not found:
        return Inspection("unknown", f"not base64: {preview(text)}", notes=("a signature is standard base64 of 64 bytes",),
                          where=where)  # fmt: skip
    return replace(from_bytes(found[0].data, ctx, found[0]) if found else
                   Inspection("unknown", f"not base64: {preview(text)}", encoding="text"), where=where)  # fmt: skip
