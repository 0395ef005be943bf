"""Bytes to an inspection: which kind the bytes are, laid out field by field, with notes.

Every reader used here is the kit's own (`kit.points`, `kit.thrift` with its length, depth and value
budgets, `kit.wrap`, `kit.message`): the inspector decides nothing about the wire format itself.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from kit import thrift
from kit.encoding import b64, b64_nopad, b64url_nopad
from kit.errors import KitError
from kit.ids import ConversationId
from kit.inspector.decode import Reading
from kit.inspector.model import Field, Inspection, hex_pairs, preview, utc_time
from kit.keys import Identity, PublicKeys
from kit.message import open_text
from kit.points import SPKI_PREFIX, load_public_key
from kit.protocol import read_key_change
from kit.signature import KEY_CHANGE_MIN_SIGNATURE_VERSION, MIN_SIGNATURE_VERSION, SIGNATURE_VERSION, message_payload
from kit.wrap import WRAPPED_KEY_SIZE

__all__ = [
    "Context",
    "check_conversation_id",
    "PAYLOAD_PREFIXES",
    "check_number",
    "conversation_id_notes",
    "from_bytes",
    "from_text",
    "looks_like_conversation_id",
    "read_signed_payload",
    "signature_version_notes",
    "spelling_notes",
    "version_notes",
]

_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
#: The most nested inspections one call makes (a 10,000-participant key change shows the first ones).
MAX_INNER = 64
#: Participants of a key change inspected one by one (the rest are counted).
MAX_PARTICIPANTS = 16
_DAY_MS = 86_400_000
_SNOWFLAKE_EPOCH = 1288834974657
#: Kinds the API writes in padded standard base64.
PADDED = {
    "public-key-spki", "public-key-sec1", "wrapped-conversation-key", "key-change-detail", "message-detail",
    "event-detail", "message-event", "message-create-event", "message-event-signature",
}  # fmt: skip


@dataclass
class Context:
    """What one `inspect` call was given (keys to open things with) and how much it may still do."""

    conversation_keys: dict[str, bytes] = field(default_factory=dict)
    any_key: bytes | None = None  # a key given without a version: tried on everything
    identity: Identity | None = None
    signing_keys: tuple[PublicKeys, ...] = ()
    budget: int = MAX_INNER
    #: the user id of the key-change entry being read (None elsewhere): the identity tries only its own
    entry_user: str | None = None

    def keys_for(self, version: str) -> list[bytes]:
        found = [self.conversation_keys[version]] if version in self.conversation_keys else []
        return found + ([self.any_key] if self.any_key is not None and self.any_key not in found else [])

    def spend(self) -> bool:
        self.budget -= 1
        return self.budget >= 0


def _on_curve(point: bytes) -> bool:
    try:
        load_public_key(point)
    except KitError:
        return False
    return True


def _digits_note(name: str, value: str) -> str:
    return "" if value.isascii() and value.isdigit() else f"{name} must be decimal digits"


def version_notes(version: str, what: str = "key version") -> list[str]:
    """What is odd about a key version: not digits, or a millisecond timestamp in the future."""
    if not (version.isascii() and version.isdigit()) or len(version) > 30:
        return [f"{what} {version!r} is not decimal digits: the API pattern is ^[0-9]+$"]
    if len(version) == 13 and int(version) > time.time() * 1000 + _DAY_MS:
        return [f"{what} {version} is a time in the future ({utc_time(version)}): versions are minted as the time in ms"]
    return []


def signature_version_notes(version: str, *, key_change: bool) -> list[str]:
    if not (version.isascii() and version.isdigit()) or len(version) > 30:
        return [f"signature_version {version!r} is not decimal digits: send {SIGNATURE_VERSION!r}"]
    v = int(version)
    if v < MIN_SIGNATURE_VERSION:
        return [f"signature_version {version} is below {MIN_SIGNATURE_VERSION}: chatxdk refuses it "
                f"('no longer accepted (minimum: 2)'); send {SIGNATURE_VERSION!r}"]  # fmt: skip
    if key_change and v < KEY_CHANGE_MIN_SIGNATURE_VERSION:
        return [f"signature_version {version}: key-change signatures before v{KEY_CHANGE_MIN_SIGNATURE_VERSION} covered "
                f"the wrapped-key list, which nobody can rebuild (ECDSA mismatch); send {SIGNATURE_VERSION!r}"]  # fmt: skip
    if v > int(SIGNATURE_VERSION):
        return [f"signature_version {version} is newer than the {SIGNATURE_VERSION} the SDK and the kit write"]
    return []


def conversation_id_notes(cid: str, *, canonical: bool) -> list[str]:
    """Notes on a conversation id where the canonical ``min:max`` form belongs (or the path form)."""
    if cid.startswith("g"):
        return [] if re.fullmatch(r"g[0-9]{1,19}", cid) else [f"{cid!r} is not a group id (g and 1 to 19 digits)"]
    for sep in ":-":
        if sep in cid:
            a, _, b = cid.partition(sep)
            if not (a.isdigit() and b.isdigit()):
                return [f"{cid!r} is not a pair of user ids"]
            notes = []
            if canonical and sep == "-":
                notes.append(f"'{cid}' uses '-' where the signed text and the event want ':' ({a}:{b} in min:max "
                             "order): recipients rebuild the signed text from it and fail with 'ECDSA mismatch'")  # fmt: skip
            if not canonical and sep == ":":
                notes.append(f"'{cid}' uses ':': URL paths and JSON use the hyphen form {a}-{b}")
            if (len(a), a) > (len(b), b):
                notes.append(f"'{cid}' lists the larger user id first: the canonical order is min{sep}max")
            if a == b:
                notes.append(f"'{cid}' pairs user {a} with themself")
            return notes
    return [] if cid.isdigit() else [f"{cid!r} is not a conversation id"]


# ----------------------------------------------------------------------------- keys, wraps, signatures


def _spki(data: bytes, ctx: Context) -> Inspection:
    point = data[26:]
    ok = _on_curve(point)
    fields = (
        Field(0, 26, "DER header", hex_pairs(data[:26], 8), "SEQUENCE, id-ecPublicKey, prime256v1, BIT STRING"),
        Field(26, 1, "04 prefix", "04", "uncompressed point follows"),
        Field(27, 32, "x", hex_pairs(point[1:33], 8)),
        Field(59, 32, "y", hex_pairs(point[33:], 8)),
        Field(None, None, "fingerprint", b64url_nopad(hashlib.sha256(data).digest()),
              "SHA-256 of these 91 bytes, base64url (what users compare, for an identity key)"),
        Field(None, None, "raw point (base64)", preview(b64(point)), "the SDK's get_public_keys() form: the same key"),
    )  # fmt: skip
    notes = [] if ok else ["the point is not on the P-256 curve: not a usable public key"]
    return Inspection("public-key-spki", "SPKI public key (the API's form), 91 bytes: 26-byte P-256 header, 04, x, y",
                      fields, tuple(notes), data=data)  # fmt: skip


def _sec1(data: bytes, ctx: Context) -> Inspection:
    ok = _on_curve(data)
    if len(data) == 65:
        fields = (
            Field(0, 1, "04 prefix", "04", "uncompressed point"),
            Field(1, 32, "x", hex_pairs(data[1:33], 8)),
            Field(33, 32, "y", hex_pairs(data[33:], 8)),
            Field(None, None, "as SPKI (base64)", preview(b64(SPKI_PREFIX + data)), "the API's form: the same key"),
        )
        summary = "raw SEC1 public key (the SDK's form), 65 bytes: 04, x, y"
    else:
        fields = (Field(0, 1, "prefix", f"{data[0]:02x}", "compressed point: y is even (02) or odd (03)"),
                  Field(1, 32, "x", hex_pairs(data[1:], 8)))  # fmt: skip
        summary = "compressed SEC1 public key, 33 bytes: 02 or 03, x"
    notes = ["the SDK returns this raw point; the API stores the SPKI form (26-byte header + this point): "
             "compare them with 'ends with'"]  # fmt: skip
    if not ok:
        notes.insert(0, "the point is not on the P-256 curve: not a usable public key")
    return Inspection("public-key-sec1", summary, fields, tuple(notes), data=data)


def _wrapped(data: bytes, ctx: Context) -> Inspection:
    ok = _on_curve(data[:65])
    fields = (
        Field(0, 65, "ephemeral point", hex_pairs(data[:65], 8), "04 ‖ x ‖ y of a one-time P-256 key"
              + ("" if ok else ": NOT on the curve")),
        Field(65, 32, "ciphertext", hex_pairs(data[65:97], 8), "the 32-byte conversation key under AES-128-GCM"),
        Field(97, 16, "tag", hex_pairs(data[97:], 8), "GCM tag: any changed byte makes the unwrap fail"),
    )  # fmt: skip
    notes = [] if ok else ["the ephemeral point is not on P-256: this does not unwrap (a changed byte in the first 65?)"]
    if ctx.identity is not None and ctx.entry_user in (None, ctx.identity.user_id):
        try:
            ctx.identity.unwrap(data)
            notes.append(f"opens with the identity of user {ctx.identity.user_id} (key version {ctx.identity.version})")
        except KitError:
            notes.append(f"does not open with the identity of user {ctx.identity.user_id}: wrapped to another key, or changed")
    return Inspection("wrapped-conversation-key", "wrapped conversation key, 113 bytes: ephemeral point, ciphertext, tag",
                      fields, tuple(notes), data=data)  # fmt: skip


def _signature(data: bytes, ctx: Context, *, maybe_secret: bool) -> Inspection:
    r, s = int.from_bytes(data[:32], "big"), int.from_bytes(data[32:], "big")
    if maybe_secret:
        fields = (Field(0, 32, "r (or the identity scalar)", "(hidden)"), Field(32, 32, "s (or the signing scalar)", "(hidden)"))
        notes = ["64 bytes are also the size of a private key blob (export_keys(): identity scalar ‖ signing scalar), "
                 "so nothing of it is shown. If it is one, treat it as leaked wherever it was pasted and make new keys. "
                 "Inside a body or an event, where the place says it is a signature, r and s are shown."]  # fmt: skip
        return Inspection("signature", "signature or private key blob, 64 bytes: r, s (values hidden)", fields,
                          tuple(notes), alternatives=("private-key-blob",), secret=True)  # fmt: skip
    notes = []
    if not (0 < r < _N and 0 < s < _N):
        notes.append("r or s is not in 1..n-1: not a valid P-256 signature")
    elif s > _N // 2:
        notes.append("s is high (not low-S normalized): normal here, about half of the SDK's signatures are, and verifiers accept it")
    fields = (Field(0, 32, "r", hex_pairs(data[:32], 8)), Field(32, 32, "s", hex_pairs(data[32:], 8)))
    return Inspection("signature", "signature, 64 bytes: r, s (raw r‖s, not DER)", fields, tuple(notes), data=data)


def _private(data: bytes, kind: str = "private-key-blob", alternatives: tuple[str, ...] = ()) -> Inspection:
    if len(data) == 64:
        fields = (Field(0, 32, "identity scalar", "(hidden)"), Field(32, 32, "signing scalar", "(hidden)"))
    else:
        fields = (Field(0, len(data), "secret", "(hidden)"),)
    note = ("32 bytes is a secret either way: an identity private scalar (import_keys accepts 32 bytes) or a raw "
            "conversation key. Nothing of it is shown; if it was pasted anywhere shared, treat it as leaked."
            if len(data) == 32 else
            "a private key: nothing of it is shown. If it was pasted anywhere shared, treat it as leaked and make new keys.")  # fmt: skip
    return Inspection(kind, f"secret, {len(data)} bytes ({'; '.join((kind, *alternatives))}): nothing shown",
                      fields, (note,), alternatives=alternatives, secret=True)  # fmt: skip


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
    return Inspection("event-detail", f"event detail, {len(data)} bytes: MessageEventDetail field {decoded.field_id} "
                      f"= {decoded.name} (the kit reads only key changes and messages)",
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
    notes += [n for n in [_digits_note("public_key_version", mes.public_key_version)] if n]
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


# ----------------------------------------------------------------------------- the signed text


_PAYLOAD_PARTS = {
    "ConversationKeyChangeEvent": ("message_id", "sender_id", "conversation_id", "conversation_key_version", "conversation_key"),
    "MessageCreateEvent": ("message_id", "sender_id", "conversation_id", "conversation_key_version", "sealed message"),
    "MessageDeleteEvent": ("message_id", "sender_id", "conversation_id", "delete kind"),
}
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PAYLOAD_PREFIXES = ("ConversationKeyChangeEvent,", "MessageCreateEvent,", "MessageDeleteEvent,", "GroupChangeEvent.")


def read_signed_payload(text: str, ctx: Context) -> Inspection:
    """The comma-joined text an action or message signature covers, part by part."""
    parts = text.split(",")
    kind = parts[0]
    names = _PAYLOAD_PARTS.get(kind, ())
    fields, notes, pos = [], [], 0
    raw = text.encode("utf-8")
    secret = kind == "ConversationKeyChangeEvent"
    for i, part in enumerate(parts):
        size = len(part.encode("utf-8"))
        name = "event type" if i == 0 else (names[i - 1] if i - 1 < len(names) else f"part {i}")
        shown, note = preview(part), ""
        if name == "message_id" and not _UUID.fullmatch(part):
            note = "the SDK mints a lower-case UUID"
        elif name == "sender_id" and not part.isdigit():
            note = "must be the sender's numeric user id"
        elif name == "conversation_id":
            found = conversation_id_notes(part, canonical=True)
            notes += found
            note = "canonical min:max" if not found else "not canonical"
        elif name == "conversation_key_version":
            notes += version_notes(part, "conversation_key_version")
        elif name == "conversation_key":
            shown = f"(hidden: {len(part)} chars)"
            notes.append("this text holds the plaintext conversation key (its last part): it must never reach the server "
                         "(leave signature_payload empty for key changes); the key is not shown")  # fmt: skip
            note = _b64_part_note(part, 32, "the 32-byte key")
        elif name == "sealed message":
            note = _b64_part_note(part, None, "the whole sealed blob (nonce ‖ tag ‖ ciphertext)")
        fields.append(Field(pos, size, name, shown, note))
        pos += size
        if i < len(parts) - 1:
            fields.append(Field(pos, 1, ",", "','"))
            pos += 1
    if names and len(parts) != len(names) + 1:
        notes.append(f"{kind} signs {len(names) + 1} comma-separated parts, this has {len(parts)} "
                     "(no part may contain ',')")  # fmt: skip
    summary = f"signed text, {len(raw)} bytes: {kind}, {len(parts) - 1} parts" + (
        " (holds the plaintext key: hidden)" if secret else "")  # fmt: skip
    return Inspection("signed-payload", summary, tuple(fields), tuple(notes), data=b"" if secret else raw, secret=secret,
                      encoding="text")  # fmt: skip


def _b64_part_note(part: str, size: int | None, what: str) -> str:
    if part.endswith("="):
        return f"padded: the signed text has {what} in base64 without padding"
    if "-" in part or "_" in part:
        return f"URL-safe: the signed text has {what} in standard base64 ('+', '/')"
    if size is not None and len(part) != -(-size * 4 // 3):
        return f"{len(part)} chars: {what} is {-(-size * 4 // 3)} chars"
    return f"{what}, base64 without padding"


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
        found = _fixed_size(data, ctx, reading, hint)
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


def _fixed_size(data: bytes, ctx: Context, reading: Reading | None, hint: str | None) -> Inspection | None:
    n = len(data)
    if n == 91 and data[:26] == SPKI_PREFIX:
        return _spki(data, ctx)
    if (n == 65 and data[0] == 4 or n == 33 and data[0] in (2, 3)) and (hint != "wrapped-conversation-key"):
        return _sec1(data, ctx)
    if n == WRAPPED_KEY_SIZE and data[0] == 4:
        return _wrapped(data, ctx)
    if n == 64:
        if hint == "private-key-blob":
            return _private(data)
        # pasted alone, 64 bytes may be a private key blob: values show only where the place says "signature"
        return _signature(data, ctx, maybe_secret=hint != "signature")
    if n == 32 and hint not in ("fingerprint",):
        return _private(data, alternatives=("conversation-key",))
    if n == 32:
        return Inspection("fingerprint", "public key fingerprint, 32 bytes: SHA-256 of an identity SPKI",
                          (Field(0, 32, "SHA-256", hex_pairs(data, 8)),), data=data)  # fmt: skip
    return None


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


def looks_like_conversation_id(text: str) -> bool:
    """True for ``A:B``, ``A-B`` (user ids of 1 to 19 digits) or a ``g…`` group id."""
    return re.fullmatch(r"[0-9]{1,19}[:-][0-9]{1,19}|g[0-9]{1,19}", text) is not None


def check_conversation_id(text: str) -> Inspection:
    """A conversation id as text: its spellings and what is odd about it."""
    canonical_form = ":" in text
    notes = conversation_id_notes(text, canonical=canonical_form)
    fields: list[Field] = []
    try:
        cid = ConversationId.parse(text)
        fields = [Field(None, None, "canonical", cid.canonical, "signed in action signatures, stored in events"),
                  Field(None, None, "path", cid.path, "URL paths and JSON")]  # fmt: skip
        if cid.members:
            fields.append(Field(None, None, "members", ", ".join(cid.members)))
    except KitError as exc:
        notes.append(str(exc))
    form = "group id" if text.startswith("g") else ("canonical form min:max" if canonical_form else "path form min-max")
    return Inspection("conversation-id", f"conversation id ({form}): {text}", tuple(fields), tuple(notes), encoding="text")


def check_number(text: str) -> Inspection:
    """Decimal digits: a key version (a millisecond time), or a user or sequence id (a snowflake)."""
    notes = version_notes(text)
    fields = [Field(None, None, "digits", str(len(text)))]
    if len(text) == 13:
        fields.append(Field(None, None, "as a time", utc_time(text), "the SDK mints versions as the time in ms"))
    if 17 <= len(text) <= 19 and int(text) < 2**63:
        ms = (int(text) >> 22) + _SNOWFLAKE_EPOCH
        fields.append(Field(None, None, "as a snowflake", utc_time(ms), "user ids and sequence ids are snowflakes: when minted"))
        notes.append("19 digits or so: more likely a user id or a sequence id than a key version")
    fields.append(Field(None, None, "compare", "as numbers", "'9' < '10': versions compare numerically, never as text"))
    return Inspection("key-version", f"key version or id: {text} ({len(text)} digits)", tuple(fields), tuple(notes),
                      encoding="text")  # fmt: skip
