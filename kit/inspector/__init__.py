"""The inspector: paste any blob or error, and the kit says what it is, byte by byte, and what is odd.

    >>> import kit
    >>> i = kit.inspect("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE" + "A" * 84 + "==")
    >>> i.kind
    'public-key-spki'

`inspect` takes base64 (padded or not, standard or URL-safe), hex, raw bytes, JSON text (a request
or an answer of the API) or a signed text, and returns an `Inspection`: its kind (one of `KINDS`),
a summary, field rows (offset, length, name, value, note), notes, and nested inspections. `explain`
takes an error (the SDK's, the API's, the kit's) and names its cause, the fix and the notebook to read.

Modules: `model` (Inspection, Field, KINDS), `decode` (text to bytes), `context` (what a call was given),
`values` (ids and versions as text), `signed_text` (what a signature covers), `fixed_size` (keys, wraps,
signatures by size), `detect` (bytes to a kind), `bodies` (JSON bodies), `troubleshoot` (what errors
mean: `explain`), `sample_data` (ready values: `samples()`, `load_sample(name)`). A layer above the wire modules and below tables and ui:
nothing here imports pandas, ipywidgets or httpx. Input is hostile by default: every reader has the
kit's budgets, and anything that is not understood is `unknown`, never an exception.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from kit.errors import APIError, KitError, Problem, WireFormatError
from kit.inspector import bodies, detect, signed_text, values
from kit.inspector.context import Context
from kit.inspector.decode import readings
from kit.inspector.troubleshoot import Explanation, explain
from kit.inspector.model import DESCRIPTIONS, KINDS, Field, Inspection
from kit.inspector.sample_data import load as load_sample
from kit.inspector.sample_data import samples
from kit.keys import Identity, PublicKeys
from kit.protocol import MAX_EVENT_CHARS

__all__ = ["DESCRIPTIONS", "KINDS", "Explanation", "Field", "Inspection", "explain", "inspect", "load_sample", "samples"]

#: The longest text or byte string inspected (the longest event the kit reads).
MAX_INPUT = MAX_EVENT_CHARS
_SDK_MARKERS = ("Crypto error:", "ECDSA mismatch", "Signature verification failed", "Decryption failed",
                "no matching signing key", "no longer accepted (minimum", "pass conversation_id explicitly")  # fmt: skip


def _context(conversation_key: Any, identity: Identity | None, signing_keys: Iterable[PublicKeys]) -> Context:
    ctx = Context(identity=identity, signing_keys=tuple(signing_keys or ()))
    if isinstance(conversation_key, Mapping):
        for version, key in conversation_key.items():
            if isinstance(key, (bytes, bytearray)) and len(key) == 32:
                ctx.conversation_keys[str(version)] = bytes(key)
    elif isinstance(conversation_key, (bytes, bytearray)):
        if len(conversation_key) != 32:
            raise WireFormatError(f"conversation_key must be exactly 32 bytes long, got {len(conversation_key)}")
        ctx.any_key = bytes(conversation_key)
    elif conversation_key is not None:
        raise WireFormatError(f"conversation_key must be 32 bytes or a {{version: key}} map, got {type(conversation_key).__name__}")
    if identity is not None and not isinstance(identity, Identity):
        raise WireFormatError(f"identity must be a kit.Identity, got {type(identity).__name__}")
    return ctx


def _from_text(text: str, ctx: Context) -> Inspection:
    t = text.strip()
    if not t:
        return Inspection("unknown", "empty text", encoding="text")
    if t[0] in "{[":
        try:
            obj = json.loads(t)
        except RecursionError:
            return Inspection("unknown", "JSON nested too deeply to read", notes=("nested too deeply",), encoding="JSON")
        except ValueError as exc:
            return Inspection("unknown", "text that starts like JSON but is not JSON", notes=(f"not JSON: {exc}",),
                              encoding="text")  # fmt: skip
        return bodies.from_json(obj, ctx)
    if t.startswith(signed_text.PAYLOAD_PREFIXES):
        return signed_text.read_signed_payload(t, ctx)
    if any(m in t for m in _SDK_MARKERS):
        e = explain(t)
        return Inspection("sdk-error", f"chatxdk error: {e.rule}", (Field(None, None, "message", t[:300]),),
                          (f"cause: {e.cause}", f"fix: {e.fix}", f"see: {e.see}"), encoding="text", decoded=e)  # fmt: skip
    if "PRIVATE KEY-----" in t:
        return Inspection("private-key-blob", "PEM private key: nothing shown",
                          (Field(None, None, "PEM block", "(hidden)"),),
                          ("a private key: nothing of it is shown. If it was pasted anywhere shared, treat it as leaked "
                           "and make new keys.",), encoding="PEM", secret=True)  # fmt: skip
    if len(t) <= 40 and (":" in t or "-" in t or t.startswith("g")) and values.looks_like_conversation_id(t):
        return values.check_conversation_id(t)
    if t.isascii() and t.isdigit() and len(t) <= 30:
        return values.check_number(t)
    found, text_notes = readings(t)
    best: Inspection | None = None
    others: list[str] = []
    for r in found:
        i = detect.from_bytes(r.data, ctx, r)
        if best is None or best.kind == "unknown" and i.kind != "unknown":
            if best is not None and best.kind != "unknown":
                others.append(best.kind)
            best = i
        elif i.kind != "unknown" and i.kind != best.kind:
            others.append(i.kind)
    prose = any(c.isspace() for c in t) or len(t) < 16  # words, or too short to say anything as bytes
    if best is None or best.kind == "unknown" and prose:
        return Inspection("unknown", f"text that is not base64, hex, JSON or a signed text ({len(t)} chars)",
                          notes=tuple(text_notes), encoding="text")  # fmt: skip
    alts = tuple(dict.fromkeys((*best.alternatives, *others)))
    return replace(best, notes=tuple(text_notes) + best.notes, alternatives=alts)


def _inspect(value: Any, ctx: Context) -> Inspection:
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        if len(data) > MAX_INPUT:
            return Inspection("unknown", f"{len(data)} bytes: more than the {MAX_INPUT} the kit reads", encoding="bytes")
        found = detect.from_bytes(data, ctx)
        if found.kind == "unknown" and data:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = ""
            if text.strip() and text.isprintable():
                as_text = _from_text(text, ctx)
                if as_text.kind != "unknown":
                    return replace(as_text, notes=("the bytes are text: read as text",) + as_text.notes)
        return replace(found, encoding=found.encoding or "bytes")
    if isinstance(value, str):
        if len(value) > MAX_INPUT:
            return Inspection("unknown", f"{len(value)} characters: more than the {MAX_INPUT} the kit reads", encoding="text")
        return _from_text(value, ctx)
    if isinstance(value, APIError):
        return bodies.from_json(value.problem.to_dict(), ctx)
    if isinstance(value, Problem):
        return bodies.from_json(value.to_dict(), ctx)
    return bodies.from_json(value, ctx)


def inspect(
    value: Any,
    *,
    conversation_key: bytes | Mapping[str, bytes] | None = None,
    identity: Identity | None = None,
    signing_keys: Iterable[PublicKeys] = (),
) -> Inspection:
    """Say what a pasted value is, field by field: base64 (any spelling), hex, bytes, JSON, a signed text.

    `conversation_key` (32 bytes, or a map from conversation key version to key) opens sealed
    messages; `identity` unwraps its own entry of a key change (and the key opens the messages
    after it); `signing_keys` (the senders' `PublicKeys`) verifies signatures. Secrets given or
    found (private keys, conversation keys, plaintext keys in a signed text) are never shown.
    Anything not understood is an inspection of kind "unknown"; only a value that is not text,
    bytes or JSON raises (`kit.WireFormatError`).
    """
    ctx = _context(conversation_key, identity, signing_keys)
    if not isinstance(value, (str, bytes, bytearray, memoryview, dict, list, APIError, Problem)):
        raise WireFormatError(
            f"kit.inspect takes text (base64, hex, JSON, a signed text), bytes or a parsed JSON value, got {type(value).__name__}"
        )
    try:
        return _inspect(value, ctx)
    except KitError as exc:
        return Inspection("unknown", "the kit could not read this", notes=(f"could not read it: {exc}",))
    except (RecursionError, MemoryError):
        return Inspection("unknown", "too deeply nested or too large to inspect", notes=("the kit's budgets stopped it",))
    except Exception as exc:  # noqa: BLE001 - a pasted value must never crash the tool; the tests forbid reaching here
        return Inspection("unknown", "the inspector could not read this",
                          notes=(f"internal error in the inspector: {type(exc).__name__}: {exc}",))  # fmt: skip


inspect.KINDS = KINDS  # type: ignore[attr-defined]
inspect.DESCRIPTIONS = DESCRIPTIONS  # type: ignore[attr-defined]
