"""Pandas views of the kit's bytes, keys, events and problems: what the notebooks show.

Every view is a `Table` (a pandas DataFrame that shows long text whole instead of cutting it
at 50 characters) or a `ByteMap` (bytes laid out by field: a coloured grid in a notebook, a
hex dump in a terminal, `.plot()` for a picture, `.table` for the rows).

Nothing here decides anything about the protocol: the views read with the kit's own
functions (`kit.thrift.read_fields`, `kit.read_key_change`, `kit.Keyring`, ...) and lay the result out.
Importing this module imports pandas; matplotlib loads only when something is plotted.

Output is stable on purpose, so that notebooks can be checked cell by cell: hex is shown as
spaced pairs (at most 16 bytes in a table cell), long text as a short preview with its length,
and times as ``YYYY-MM-DD HH:MM:SS.mmm UTC``.
"""

from __future__ import annotations

import hashlib
import html
import struct
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kit import signature as _sig
from kit import thrift as _thrift
from kit.encoding import from_b64
from kit.errors import APIError, KitError, Problem
from kit.ids import ConversationId
from kit.keyring import Keyring
from kit.keys import SPKI_PREFIX, Identity, PublicKeys, fingerprint, load_public_key, spki
from kit.protocol import KeyInit, prepare_key_init
from kit.wrap import WRAPPED_KEY_SIZE, WrapSteps

__all__ = [
    "ByteMap",
    "Table",
    "conversation_ids_table",
    "demo_members",
    "error_line",
    "events_table",
    "key_changes_table",
    "messages_table",
    "participants_table",
    "payload_table",
    "plot_wrap_cost",
    "problem_table",
    "progress_bar",
    "public_keys_table",
    "request_table",
    "sealed_key_table",
    "sealed_message_map",
    "signature_map",
    "spki_map",
    "tamper_table",
    "thrift_map",
    "thrift_table",
    "wrap_cost",
    "wrap_steps_table",
    "wrapped_key_map",
]

#: Light fills that stay readable under black text, in the order fields are met.
PALETTE = (
    "#fde2b8", "#c6e2ff", "#d4f4c4", "#f7c6d9", "#e3d4f7", "#fff3a8",
    "#c9f2ef", "#f2d0b5", "#dcdcdc", "#b8e0d2", "#f5b7b1", "#d6eaf8",
)  # fmt: skip
_HEX_LIMIT = 16
_PREVIEW = 12
_SHORT_TEXT = 40


# ----------------------------------------------------------------------------- formatting


def _hex(data: bytes, limit: int | None = _HEX_LIMIT) -> str:
    """Spaced hex pairs; at most `limit` bytes, then an ellipsis."""
    data = bytes(data)
    if limit is not None and len(data) > limit:
        return data[:limit].hex(" ") + " …"
    return data.hex(" ")


def _preview(text: str) -> str:
    """Short text as is; long text as its first characters and its length."""
    if len(text) <= _SHORT_TEXT:
        return repr(text)
    return f"{text[:_PREVIEW]!r}… ({len(text)} chars)"


def _when(ms: int | str) -> str:
    """A millisecond timestamp as ``YYYY-MM-DD HH:MM:SS.mmm UTC``."""
    ms = int(ms)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d} UTC"


def _raw(data: bytes | str, what: str) -> bytes:
    if isinstance(data, str):
        return from_b64(data, what=what, max_len=16 * 1024 * 1024)
    return bytes(data)


def error_line(exc: BaseException) -> str:
    """One readable line for an error: its class name and message (no traceback)."""
    return f"{type(exc).__name__}: {exc}"


class Table(pd.DataFrame):
    """A pandas DataFrame that shows long text whole (pandas cuts cells at 50 characters)."""

    @property
    def _constructor(self) -> type[Table]:
        return Table

    def __repr__(self) -> str:
        with pd.option_context("display.max_colwidth", None, "display.width", 250):
            return super().__repr__()

    def _repr_html_(self) -> str | None:
        with pd.option_context("display.max_colwidth", None):
            return super()._repr_html_()


# ----------------------------------------------------------------------------- byte maps


@dataclass(frozen=True)
class Segment:
    """A run of bytes with one meaning: where it starts, how long it is, what it is."""

    offset: int
    length: int
    field: str
    group: str = ""

    @property
    def kind(self) -> str:
        """The colour group: `group` when given, else the field."""
        return self.group or self.field


class ByteMap:
    """Bytes laid out by field: a coloured grid in a notebook, a hex dump as text.

    `segments` must cover the bytes exactly, in order. `table` has one row per segment;
    `plot()` draws the same map with matplotlib.
    """

    def __init__(self, data: bytes, segments: Sequence[Segment], *, title: str, width: int = 16) -> None:
        self.data = bytes(data)
        self.segments = tuple(segments)
        self.title = title
        self.width = width
        pos = 0
        for seg in self.segments:
            if seg.offset != pos or seg.length < 0:
                raise ValueError(f"byte map {title!r}: segment {seg.field!r} starts at {seg.offset}, expected {pos}")
            pos += seg.length
        if pos != len(self.data):
            raise ValueError(f"byte map {title!r}: segments cover {pos} bytes of {len(self.data)}")

    @property
    def table(self) -> Table:
        """One row per segment: offset, length, field and its first bytes in hex."""
        return Table(
            [(s.offset, s.length, s.field, _hex(self.data[s.offset : s.offset + s.length])) for s in self.segments],
            columns=["offset", "length", "field", "hex"],
        )

    def _colours(self) -> dict[str, str]:
        colours: dict[str, str] = {}
        for seg in self.segments:
            if seg.kind not in colours:
                colours[seg.kind] = PALETTE[len(colours) % len(PALETTE)]
        return colours

    def _byte_kinds(self) -> list[str]:
        out: list[str] = []
        for seg in self.segments:
            out.extend([seg.kind] * seg.length)
        return out

    def _grid(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        rows = -(-len(self.data) // self.width)
        colours = self._colours()
        kinds = self._byte_kinds()
        cells = [["" for _ in range(self.width)] for _ in range(rows)]
        css = [["" for _ in range(self.width)] for _ in range(rows)]
        for i, byte in enumerate(self.data):
            r, c = divmod(i, self.width)
            cells[r][c] = f"{byte:02x}"
            css[r][c] = f"background-color: {colours[kinds[i]]}"
        index = [r * self.width for r in range(rows)]
        columns = [f"+{c:x}" for c in range(self.width)]
        return pd.DataFrame(cells, index=index, columns=columns), pd.DataFrame(css, index=index, columns=columns)

    @property
    def styler(self) -> Any:
        """The grid as a pandas Styler: one cell per byte, coloured by field."""
        grid, css = self._grid()
        uid = hashlib.sha256(self.data + repr(self.segments).encode()).hexdigest()[:12]
        return (
            grid.style.set_uuid(f"bytemap-{uid}")
            .apply(lambda _: css, axis=None)
            .set_table_styles(
                [
                    {"selector": "td", "props": "font-family: monospace; padding: 1px 4px; text-align: center; color: #000;"},
                    {"selector": "th", "props": "font-family: monospace; padding: 1px 4px;"},
                ]
            )
        )

    def _legend_html(self) -> str:
        colours = self._colours()
        rows = "".join(
            f'<tr><td style="background-color: {colours[s.kind]}; width: 1.5em"></td>'
            f"<td>{s.offset}</td><td>{s.length}</td><td>{html.escape(s.field)}</td></tr>"
            for s in self.segments
        )
        return (
            '<table style="font-family: monospace; font-size: smaller">'
            "<tr><th></th><th>offset</th><th>length</th><th>field</th></tr>"
            f"{rows}</table>"
        )

    def _repr_html_(self) -> str:
        return (
            f"<div><b>{html.escape(self.title)}</b>, {len(self.data)} bytes"
            f'<div style="display: flex; gap: 2em; align-items: flex-start">'
            f"<div>{self.styler.to_html()}</div><div>{self._legend_html()}</div></div></div>"
        )

    def __repr__(self) -> str:
        lines = [f"{self.title}, {len(self.data)} bytes"]
        for r in range(0, len(self.data), self.width):
            lines.append(f"{r:5d}  {self.data[r : r + self.width].hex(' ')}")
        lines.append("")
        lines.append(" offset  length  field")
        lines.extend(f"{s.offset:7d}  {s.length:6d}  {s.field}" for s in self.segments)
        return "\n".join(lines)

    def plot(self, *, width: int | None = None, show_hex: bool | None = None) -> Any:
        """The map as a matplotlib Figure (not registered with pyplot, so it shows once)."""
        from matplotlib.patches import Patch, Rectangle

        width = width or (self.width if len(self.data) <= 128 else 32)
        show_hex = len(self.data) <= 160 if show_hex is None else show_hex
        rows = -(-len(self.data) // width)
        colours = self._colours()
        kinds = self._byte_kinds()
        fig, ax = _figure(figsize=(max(6.0, width * 0.36), 0.8 + rows * 0.32 + 0.25 * len(colours) / 2))
        for i, byte in enumerate(self.data):
            r, c = divmod(i, width)
            ax.add_patch(Rectangle((c, -r), 1, 1, facecolor=colours[kinds[i]], edgecolor="white", linewidth=0.5))
            if show_hex:
                ax.text(c + 0.5, -r + 0.5, f"{byte:02x}", ha="center", va="center", fontsize=7, family="monospace")
        ax.set_xlim(0, width)
        ax.set_ylim(-rows + 1, 1)
        ax.set_yticks([-r + 0.5 for r in range(rows)], [str(r * width) for r in range(rows)], fontsize=7)
        ax.set_xticks([])
        ax.set_ylabel("offset")
        for side in ("top", "right", "bottom", "left"):
            ax.spines[side].set_visible(False)
        ax.set_title(f"{self.title} ({len(self.data)} bytes)")
        handles = [Patch(facecolor=colour, label=kind) for kind, colour in colours.items()]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=min(3, len(handles)), fontsize=7, frameon=False)
        fig.tight_layout()
        return fig


def _figure(*, figsize: tuple[float, float]) -> tuple[Any, Any]:
    """A Figure and its Axes that show exactly once when returned from a notebook cell.

    Made through pyplot (which, in a Jupyter kernel, registers how figures display), then
    closed, so pyplot does not show it a second time at the end of the cell.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize)
    plt.close(fig)
    return fig, ax


def _segments(parts: Iterable[tuple[int, str]]) -> list[Segment]:
    out, pos = [], 0
    for length, name in parts:
        out.append(Segment(pos, length, name))
        pos += length
    return out


def wrapped_key_map(wrapped: bytes | str) -> ByteMap:
    """The 113 bytes of an `encrypted_conversation_key`: ephemeral point, ciphertext, tag."""
    raw = _raw(wrapped, "encrypted_conversation_key")
    if len(raw) != WRAPPED_KEY_SIZE:
        raise ValueError(f"a wrapped conversation key is {WRAPPED_KEY_SIZE} bytes, got {len(raw)}")
    parts = [
        (1, "04: uncompressed point"),
        (32, "ephemeral public key X"),
        (32, "ephemeral public key Y"),
        (32, "ciphertext (AES-128-GCM of the conversation key)"),
        (16, "GCM tag"),
    ]
    return ByteMap(raw, _segments(parts), title="wrapped conversation key")


def spki_map(key: Any) -> ByteMap:
    """The 91-byte SPKI DER of a P-256 public key: the 26-byte header, then the SEC1 point."""
    raw = spki(load_public_key(key))
    assert raw.startswith(SPKI_PREFIX)
    parts = [
        (2, "30 59: SEQUENCE, 89 bytes"),
        (2, "30 13: SEQUENCE (algorithm), 19 bytes"),
        (2, "06 07: OBJECT IDENTIFIER, 7 bytes"),
        (7, "1.2.840.10045.2.1 id-ecPublicKey"),
        (2, "06 08: OBJECT IDENTIFIER, 8 bytes"),
        (8, "1.2.840.10045.3.1.7 prime256v1 (P-256)"),
        (2, "03 42: BIT STRING, 66 bytes"),
        (1, "00: no unused bits"),
        (1, "04: uncompressed point (SEC1 starts here)"),
        (32, "X"),
        (32, "Y"),
    ]
    return ByteMap(raw, _segments(parts), title="SPKI public key")


def signature_map(signature: bytes | str) -> ByteMap:
    """A raw ECDSA signature: ``r ‖ s``, 32 bytes each (base64 text is accepted)."""
    raw = _sig.decode_signature(signature) if isinstance(signature, str) else bytes(signature)
    if len(raw) != 64:
        raise ValueError(f"a raw P-256 signature is 64 bytes (r‖s), got {len(raw)}")
    return ByteMap(raw, _segments([(32, "r"), (32, "s")]), title="signature r‖s")


def tamper_table(identity: Identity, wrapped: bytes, offsets: Iterable[int]) -> Table:
    """Flip the low bit of one byte of a wrapped key at each offset and try to unwrap it as `identity`."""
    raw = bytes(wrapped)
    fields = wrapped_key_map(raw).segments
    rows = []
    for i in offsets:
        changed = bytearray(raw)
        changed[i] ^= 0x01
        field = next(s.field for s in fields if s.offset <= i < s.offset + s.length)
        try:
            identity.unwrap(bytes(changed))
            result = "opened (this should never happen)"
        except KitError as exc:
            result = error_line(exc)
        rows.append((i, field, f"{raw[i]:02x} → {changed[i]:02x}", result))
    return Table(rows, columns=["offset", "field", "byte", "unwrap"])


def sealed_message_map(sealed: bytes) -> ByteMap:
    """A sealed message (XSalsa20-Poly1305): nonce, Poly1305 tag, ciphertext."""
    raw = bytes(sealed)
    return ByteMap(raw, _segments([(24, "nonce"), (16, "Poly1305 tag"), (len(raw) - 40, "ciphertext")]), title="sealed message")


def sealed_key_table(sealed: bytes) -> Table:
    """The layout of a passphrase-protected private key blob (`Identity.export_protected`).

    Shows lengths and the public parameters, never the secret or random bytes.
    """
    raw = bytes(sealed)
    ops, mem = struct.unpack_from(">II", raw, 5)
    rows = [
        (0, 5, "magic", repr(raw[:5].decode("ascii", "replace"))),
        (5, 4, "Argon2id opslimit", str(ops)),
        (9, 4, "Argon2id memlimit", f"{mem} bytes ({mem // 2**20} MiB)"),
        (13, 16, "salt", "random, public"),
        (29, 24, "nonce", "random, public"),
        (53, 16, "Poly1305 tag", "checks the passphrase and every byte"),
        (69, len(raw) - 69, "ciphertext", "64-byte private blob + user id and key version"),
    ]
    return Table(rows, columns=["offset", "length", "field", "value"])


def wrap_steps_table(steps: WrapSteps) -> Table:
    """Each intermediate value of one wrap (`kit.wrap.wrap_steps`), in order."""
    rows = [
        ("1", "E: ephemeral public key (SEC1)", steps.ephemeral_public),
        ("2", "Z: ECDH(ephemeral private, recipient public)", steps.shared_secret),
        ("3", "K: SHA-256(Z ‖ 00000001 ‖ E), X9.63 KDF", steps.kdf_output),
        ("4a", "AES-128 key = K[0:16]", steps.aes_key),
        ("4b", "GCM IV = K[16:32]", steps.iv),
        ("5a", "ciphertext", steps.ciphertext),
        ("5b", "GCM tag", steps.tag),
        ("6", "wrapped = E ‖ ciphertext ‖ tag", steps.wrapped),
    ]
    return Table([(n, what, len(v), _hex(v)) for n, what, v in rows], columns=["step", "value", "length", "hex"])


def payload_table(payload: bytes) -> Table:
    """A signed payload split at its commas: each part, where it starts, how long it is."""
    text = bytes(payload).decode("utf-8")
    kind = text.split(",", 1)[0]
    names = {
        "ConversationKeyChangeEvent": ["event type", "message_id", "sender_id", "conversation_id (canonical)",
                                       "conversation_key_version", "conversation key (base64, no padding)"],
        "MessageCreateEvent": ["event type", "message_id", "sender_id", "conversation_id (canonical)",
                               "conversation_key_version", "sealed message (base64, no padding)"],
    }.get(kind, [])  # fmt: skip
    rows, pos = [], 0
    for i, part in enumerate(text.split(",")):
        name = names[i] if i < len(names) else f"part {i}"
        rows.append((pos, len(part.encode("utf-8")), name, _preview(part)))
        pos += len(part.encode("utf-8")) + 1
    return Table(rows, columns=["offset", "length", "part", "text"])


# ----------------------------------------------------------------------------- Thrift

_S = _thrift.STRING
#: Field names per struct, from the SDK's event.thrift and product.thrift: (name, struct type or None).
_FIELDS: dict[str, dict[int, tuple[str, str | None]]] = {
    "MessageEventDetail": {
        fid: (name, {1: "MessageCreateEvent", 3: "ConversationKeyChangeEvent"}.get(fid))
        for fid, name in _thrift.DETAIL_FIELDS.items()
    },
    "ConversationKeyChangeEvent": {
        1: ("conversation_key_version", None),
        2: ("conversation_participant_keys", "ConversationParticipantKey"),
        4: ("ratchet_tree_change", None),
        5: ("for_key_rotation", None),
    },
    "ConversationParticipantKey": {1: ("user_id", None), 2: ("encrypted_conversation_key", None), 3: ("public_key_version", None)},
    "MessageEvent": {
        1: ("sequence_id", None), 2: ("message_id", None), 3: ("sender_id", None), 4: ("conversation_id", None),
        5: ("conversation_token", None), 6: ("created_at_msec", None), 7: ("detail", "MessageEventDetail"),
        8: ("relay_source", None), 9: ("message_event_signature", "MessageEventSignature"),
        10: ("previous_sequence_id", None), 11: ("is_trusted", None),
    },
    "MessageEventSignature": {
        1: ("signature", None), 2: ("public_key_version", None), 3: ("signature_version", None),
        4: ("signing_public_key", None), 5: ("message_signing_key_info_list", None),
    },
    "MessageCreateEvent": {
        100: ("contents", None), 101: ("conversation_key_version", None), 102: ("should_notify", None), 103: ("ttl_msec", None),
    },
    "MessageEntryHolder": {1: ("contents", "MessageEntryContents")},
    "MessageEntryContents": {1: ("message", "MessageContents")},
    "MessageContents": {1: ("message_text", None)},
}  # fmt: skip
_FIXED = {_thrift.BOOL: 1, _thrift.BYTE: 1, _thrift.I16: 2, _thrift.I32: 4, _thrift.I64: 8, _thrift.DOUBLE: 8}


def _size(data: bytes, at: int, ttype: int, value: Any) -> int:
    """Bytes a decoded value starting at `at` took on the wire (the reader has checked them)."""
    if ttype == _S:
        return 4 + len(value)
    if ttype == _thrift.STRUCT:
        return int(value.end - value.start)
    if ttype in (_thrift.LIST, _thrift.SET):
        elem, pos = data[at], at + 5
        for v in value:
            pos += _size(data, pos, elem, v)
        return pos - at
    if ttype == _thrift.MAP:
        kt, vt, pos = data[at], data[at + 1], at + 6
        for k, v in value:
            pos += _size(data, pos, kt, k)
            pos += _size(data, pos, vt, v)
        return pos - at
    return _FIXED[ttype]


def _show(name: str, ttype: int, value: Any) -> str:
    if ttype == _S:
        try:
            text = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is None or not text.isprintable():
            return f"{len(value)} bytes: {_hex(value, 8)}"
        if name.endswith("_msec") and text.isdigit():
            return f"{_when(text)} ({len(text)} digits)"
        return _preview(text)
    if ttype == _thrift.BOOL:
        return "true" if value else "false"
    return repr(value)


def _walk(data: bytes, s: _thrift.Struct, struct_name: str, depth: int, rows: list[tuple[Any, ...]], tag: str = "") -> None:
    names = _FIELDS.get(struct_name, {})
    indent = "· " * depth
    pos = s.start
    for fid, (ttype, value) in s.fields.items():
        name, sub = names.get(fid, (f"field {fid}", None))
        where = f"{indent}{tag}{name}"
        tname = _thrift.TYPE_NAMES.get(ttype, str(ttype))
        if ttype == _thrift.STRUCT:
            rows.append((pos, 3, where, "struct", _hex(data[pos : pos + 3]), f"→ {sub or 'struct'}"))
            _walk(data, value, sub or "", depth + 1, rows)
        elif ttype in (_thrift.LIST, _thrift.SET) and value and isinstance(value[0], _thrift.Struct):
            rows.append((pos, 8, where, f"{tname}<struct>", _hex(data[pos : pos + 8]), f"{len(value)} × {sub or 'struct'}"))
            for i, elem in enumerate(value):
                _walk(data, elem, sub or "", depth + 1, rows, tag=f"[{i}] ")
        else:
            length = 3 + _size(data, pos + 3, ttype, value)
            head = 7 if ttype == _S else (8 if ttype in (_thrift.LIST, _thrift.SET) else length)
            if ttype in (_thrift.LIST, _thrift.SET):
                shown = f"{len(value)} elements"
            elif ttype == _thrift.MAP:
                shown = f"{len(value)} entries"
            else:
                shown = _show(name, ttype, value)
            rows.append((pos, length, where, tname, _hex(data[pos : pos + head]), shown))
        pos += 3 + _size(data, pos + 3, ttype, value)
    rows.append((pos, 1, f"{indent}{tag}STOP", "stop", "00", f"end of {struct_name or 'struct'}"))


def thrift_table(data: bytes | str, *, struct: str = "MessageEventDetail") -> Table:
    """A TBinaryProtocol struct decoded field by field, one row per run of bytes.

    `data` is raw bytes or base64 text (an `encoded_message_event_detail`, an `encoded_event`, ...);
    `struct` names the root: MessageEventDetail, MessageEvent, MessageEventSignature,
    MessageCreateEvent or MessageEntryHolder. The rows cover every byte once, in order; a `·`
    per level shows nesting and ``[i]`` the list element. `wire` is the field's own bytes
    (type, field id, length or count), `value` what follows them, decoded.
    """
    raw = _raw(data, struct)
    s = _thrift.read_fields(raw, what=struct)
    rows: list[tuple[Any, ...]] = []
    _walk(raw, s, struct, 0, rows)
    return Table(rows, columns=["offset", "length", "field", "type", "wire", "value"])


def thrift_map(data: bytes | str, *, struct: str = "MessageEventDetail") -> ByteMap:
    """The same struct as a `ByteMap`, coloured by field name (see `thrift_table` for the rows)."""
    raw = _raw(data, struct)
    rows = thrift_table(raw, struct=struct)
    segments = []
    for offset, length, field, ttype, _wire, _value in rows.itertuples(index=False):
        leaf = field.replace("·", "").strip().split("] ", 1)[-1]
        group = "structure (headers, STOP)" if ttype in ("struct", "stop") or ttype.startswith("list<") else leaf
        segments.append(Segment(int(offset), int(length), field, group))
    return ByteMap(raw, segments, title=struct, width=32)


# ----------------------------------------------------------------------------- keys, participants, requests


def public_keys_table(keys: Iterable[PublicKeys]) -> Table:
    """Registered public keys: who, which version, the fingerprint, and whether the binding verifies."""
    rows = []
    for pk in keys:
        try:
            pk.verify_binding()
            binding = "verified"
        except KitError as exc:
            binding = error_line(exc)
        rows.append((pk.user_id, pk.version, fingerprint(pk.public_key), _preview(pk.public_key), binding))
    return Table(rows, columns=["user_id", "key version", "fingerprint", "identity key (SPKI, base64)", "binding"])


def participants_table(init: KeyInit) -> Table:
    """The participants of a `KeyInit`: whose key version the conversation key was wrapped to."""
    wrapped = {p.user_id: p.encrypted_conversation_key for p in init.detail.participant_keys}
    rows = [
        (pk.user_id, pk.version, fingerprint(pk.public_key), _preview(wrapped.get(pk.user_id, "")))
        for pk in init.participants
    ]
    return Table(rows, columns=["user_id", "public_key_version", "fingerprint", "encrypted_conversation_key"])


def conversation_ids_table(spellings: Iterable[str], *, caller: str) -> Table:
    """How each spelling of a conversation id reads: canonical (signatures, Thrift) and path (URLs)."""
    rows = []
    for text in spellings:
        try:
            cid = ConversationId.parse(text, caller=caller)
            rows.append((text, cid.canonical, cid.path, "group" if cid.is_group else "1:1"))
        except KitError as exc:
            rows.append((text, "", "", error_line(exc)))
    return Table(rows, columns=["written as", "canonical (signed)", "path (URL, JSON)", "kind"])


def _flatten(value: Any, path: str, rows: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(v, f"{path}.{k}" if path else k, rows)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _flatten(v, f"{path}[{i}]", rows)
    elif isinstance(value, str):
        rows.append((path, _preview(value)))
    else:
        rows.append((path, repr(value)))


def request_table(body: dict[str, Any]) -> Table:
    """A JSON request body flattened to one row per value (long strings as previews)."""
    rows: list[tuple[str, str]] = []
    _flatten(body, "", rows)
    return Table(rows, columns=["field", "value"])


# ----------------------------------------------------------------------------- events, recipients, problems


def _events(events: Any) -> list[str | bytes]:
    """Key changes then messages, from an `EventsPage` or a list of events."""
    if hasattr(events, "key_changes") and hasattr(events, "messages"):
        return [*events.key_changes, *events.messages]
    return list(events)


def events_table(events: Any) -> Table:
    """One row per event of an events page (or a list of base64 `MessageEvent`s), by sequence id."""
    rows = []
    for item in _events(events):
        raw = _raw(item, "event")
        event = _thrift.read_message_event(raw)
        detail = event.read_detail()
        if isinstance(detail, _thrift.KeyChangeDetail):
            kind, version = "key change", detail.conversation_key_version
        elif isinstance(detail, _thrift.MessageCreateEvent):
            kind, version = "message", detail.conversation_key_version
        else:
            kind, version = detail.name, ""
        rows.append(
            (event.sequence_id, kind, event.message_id, event.sender_id, event.conversation_id, version,
             _when(event.created_at_msec) if event.created_at_msec else "")
        )  # fmt: skip
    rows.sort(key=lambda r: (len(r[0]), r[0]))
    return Table(
        rows, columns=["sequence_id", "kind", "message_id", "sender_id", "conversation_id", "conversation_key_version", "created_at"]
    )


def key_changes_table(events: Any, *, recipient: Identity, signing_keys: Iterable[PublicKeys]) -> Table:
    """Key-change events as `recipient` reads them, in the order given.

    Each event goes through a fresh `kit.Keyring` (`read`: unwrap my entry, verify the action
    signature, then adopt only a version newer than the latest of its conversation); the last
    column is that conversation's latest adopted version after the row.
    """
    keys = list(signing_keys)
    items = events.key_changes if hasattr(events, "key_changes") else list(events)
    keyring = Keyring()
    rows = []
    for item in items:
        raw = _raw(item, "key-change event")
        event = _thrift.read_message_event(raw)
        try:
            adoption = keyring.read(raw, recipient=recipient, signing_keys=keys)
        except KitError as exc:
            detail = event.read_detail()
            version = getattr(detail, "conversation_key_version", "")
            latest = _latest_version(keyring, event.conversation_id)
            rows.append((event.sequence_id, event.sender_id, version, error_line(exc), latest))
            continue
        check = "verified, adopted" if adoption.adopted else f"verified, not adopted: {adoption.reason}"
        version = adoption.change.conversation_key_version
        rows.append((event.sequence_id, event.sender_id, version, check, adoption.latest_version))
    return Table(rows, columns=["sequence_id", "sender_id", "conversation_key_version", "recipient's check", "newest adopted"])


def _latest_version(keyring: Keyring, conversation_id: str) -> str:
    try:
        latest = keyring.latest(conversation_id)
    except KitError:  # an envelope whose conversation id does not even parse
        return ""
    return latest.conversation_key_version if latest is not None else ""


def messages_table(
    events: Any, *, conversation_keys: dict[str, bytes], signing_keys: Iterable[PublicKeys]
) -> Table:
    """Messages verified and decrypted (or the reason they were not), oldest first."""
    from kit.message import read_message

    keys = list(signing_keys)
    items = events.messages if hasattr(events, "messages") else list(events)
    rows = []
    for item in items:
        raw = _raw(item, "message event")
        event = _thrift.read_message_event(raw)
        try:
            msg = read_message(raw, conversation_key=conversation_keys, signing_keys=keys)
            rows.append((event.sequence_id, event.sender_id, msg.conversation_key_version, msg.text, "verified"))
        except KitError as exc:
            detail = event.read_detail()
            rows.append((event.sequence_id, event.sender_id, getattr(detail, "conversation_key_version", ""), "", error_line(exc)))
    rows.sort(key=lambda r: (len(r[0]), r[0]))
    return Table(rows, columns=["sequence_id", "sender_id", "conversation_key_version", "text", "check"])


def problem_table(error: BaseException | Problem) -> Table:
    """A problem as one row: status, kind, title, detail, and the parameter it names.

    Takes a `kit.APIError` (or its `Problem`); any other error gives a row with its class name.
    """
    if isinstance(error, APIError):
        problem: Problem | None = error.problem
        status: Any = error.status
    elif isinstance(error, Problem):
        problem, status = error, error.status
    else:
        problem, status = None, None
    if problem is None:
        row = (None, type(error).__name__, "", str(error), "")
    else:
        row = (status, problem.kind, problem.title, problem.detail, str(problem.extra.get("parameter", "")))
    return Table([row], columns=["status", "problem", "title", "detail", "parameter"])


# ----------------------------------------------------------------------------- cost of wrapping


def progress_bar(label: str, *, width: int = 30, stream: Any = None) -> Callable[[int, int], None]:
    """A text progress bar for `prepare_key_init(progress=...)` and `wrap_cost(progress=...)`.

    It rewrites one line (``\\r``) and ends it when done == total; no times, so its last state
    is the same every run.
    """

    def update(done: int, total: int) -> None:
        out = stream if stream is not None else sys.stdout
        filled = width * done // total if total else width
        out.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            out.write("\n")
        out.flush()

    return update


def demo_members(n: int, *, first_id: int = 3_000_000_000_000_000_000) -> list[PublicKeys]:
    """DEMO ONLY: public keys of `n` seeded identities (user ids `first_id`, `first_id + 1`, ...)."""
    return [
        Identity.from_seed(f"member {i} (demo only)", str(first_id + i), version="1").public_keys for i in range(n)
    ]


def wrap_cost(
    sender: Identity,
    members: Sequence[PublicKeys],
    sizes: Sequence[int],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Time `prepare_key_init` (check bindings, wrap for everyone, encode, sign) for each group size.

    Returns participants and seconds per size (times differ from run to run: plot them, do
    not print them in a checked notebook). `progress` is called with participants done so far.
    """
    total = sum(sizes)
    done = 0
    rows = []
    for n in sizes:
        if n > len(members):
            raise ValueError(f"size {n} needs {n} members, got {len(members)}")
        start = time.perf_counter()
        prepare_key_init(sender, members[:n], conversation_id="g1", version="1", message_id="cost")
        rows.append((n + 1, time.perf_counter() - start))
        done += n
        if progress is not None:
            progress(done, total)
    frame = pd.DataFrame(rows, columns=["participants", "seconds"])
    frame["µs per participant"] = frame["seconds"] / frame["participants"] * 1e6
    return frame


def plot_wrap_cost(cost: pd.DataFrame) -> Any:
    """Time to prepare a key init against the number of participants, as a matplotlib Figure."""
    fig, ax = _figure(figsize=(7, 4))
    ax.plot(cost["participants"], cost["seconds"] * 1000, marker="o", label="prepare_key_init")
    per = float(cost["seconds"].iloc[-1] / cost["participants"].iloc[-1] * 1e6)
    ax.set_xlabel("participants (sender included)")
    ax.set_ylabel("milliseconds")
    ax.set_title("Preparing a key init: one wrap (ECDH + AES-GCM) per participant")
    ax.annotate(
        f"≈ {per:.0f} µs per participant",
        xy=(cost["participants"].iloc[-1], cost["seconds"].iloc[-1] * 1000),
        xytext=(-10, -30),
        textcoords="offset points",
        ha="right",
    )
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig
