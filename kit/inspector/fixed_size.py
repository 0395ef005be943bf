"""The kinds a size tells apart: public keys (SPKI, SEC1), wrapped conversation keys, signatures, private blobs, fingerprints (notebook 08)."""

from __future__ import annotations

import hashlib

from kit.encoding import b64, b64url_nopad
from kit.errors import KitError
from kit.inspector.context import Context
from kit.inspector.decode import Reading
from kit.inspector.model import Field, Inspection, hex_pairs, preview
from kit.points import SPKI_PREFIX, load_public_key
from kit.wrap import WRAPPED_KEY_SIZE

__all__ = ["fixed_size"]

_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _on_curve(point: bytes) -> bool:
    try:
        load_public_key(point)
    except KitError:
        return False
    return True


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


def fixed_size(data: bytes, ctx: Context, reading: Reading | None, hint: str | None) -> Inspection | None:
    """The inspection of bytes whose size says their kind (keys, wrapped keys, signatures, fingerprints); None otherwise."""
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
