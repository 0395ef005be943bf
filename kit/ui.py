"""Widget panels for the notebooks and the Voila app: the only module that imports ipywidgets.

Each panel is a `VBox` that holds kit objects (the model) and widgets (the view). Its
callbacks call kit functions and set widget values; they never print and never write into an
`Output` widget, so a notebook shows the same thing in JupyterLab, Voila and nbval.

- `KeyPanel(client)`: generate an identity, see its fingerprint and bytes, register it.
- `WrapExplorer(identities)`: wrap a conversation key, flip a byte, unwrap.
- `RequestBuilder(client, identity, peer)`: build and send the Initialize Conversation Keys call.
- `Inbox(client, identity)`: fetch events as the recipient, verify, unwrap, decrypt.
- `App()`: all four on an in-process sandbox with two demo users, as one app.

The widgets of a panel are its attributes (`panel.generate.click()`, `panel.result.value`), and
no widget ever holds a private key, a conversation key or an access token.
"""

from __future__ import annotations

import html
import json
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

import ipywidgets as widgets

import kit
from kit.encoding import from_b64
from kit.errors import APIError, KitError
from kit.ids import ConversationId, new_version
from kit.keys import SPKI_PREFIX, Identity, PublicKeys
from kit.thrift import read_message_event
from kit.wrap import WRAPPED_KEY_SIZE, wrap_steps

__all__ = ["App", "Inbox", "KeyPanel", "RequestBuilder", "WrapExplorer", "byte_map", "problem_text"]

#: One colour per part of a byte layout (pale, so the hex stays readable).
COLORS = {
    "header": "#e5e7eb",
    "point": "#dbeafe",
    "x": "#dbeafe",
    "y": "#e0e7ff",
    "ephemeral point": "#dbeafe",
    "ciphertext": "#fde68a",
    "tag": "#bbf7d0",
}
_OK = "#166534"
_ERROR = "#b91c1c"
_WIDE = {"description_width": "initial"}

Segment = tuple[str, int]


# ---------------------------------------------------------------------------------- view helpers


def byte_map(
    data: bytes, segments: Sequence[Segment], *, flipped: Iterable[int] = (), selected: int | None = None
) -> str:
    """HTML for `data` as coloured hex bytes, one colour per `(name, length)` segment, with a legend.

    Bytes in `flipped` are struck through in red; the `selected` byte is outlined.
    """
    flipped = set(flipped)
    bounds: list[tuple[str, int, int]] = []
    start = 0
    for name, length in segments:
        bounds.append((name, start, start + length))
        start += length
    if start != len(data):
        bounds.append(("rest", start, len(data)))
    legend = " ".join(
        f'<span style="background:{COLORS.get(name, "#f3f4f6")};padding:0 4px;margin-right:4px;white-space:nowrap">'
        f"{html.escape(name)}: bytes {lo}–{hi - 1} ({hi - lo})</span>"
        for name, lo, hi in bounds
        if hi > lo
    )
    cells = []
    for name, lo, hi in bounds:
        for i in range(lo, min(hi, len(data))):
            style = f"background:{COLORS.get(name, '#f3f4f6')};padding:1px 2px;margin:1px;display:inline-block"
            if i in flipped:
                style += f";color:{_ERROR};font-weight:bold;text-decoration:line-through"
            if i == selected:
                style += ";outline:2px solid #111827"
            cells.append(
                f'<span class="xk-byte" data-segment="{html.escape(name)}" title="byte {i}: {html.escape(name)}" '
                f'style="{style}">{data[i]:02x}</span>'
            )
    return (
        f'<div class="xk-byte-map" style="font-family:monospace;font-size:12px;line-height:1.6;max-width:60em">'
        f'<div class="xk-legend" style="margin-bottom:4px">{legend}</div>{"".join(cells)}</div>'
    )


def problem_text(err: BaseException) -> str:
    """One line for an error: an API problem's status, type kind and detail, or a kit error's message."""
    if isinstance(err, APIError):
        p = err.problem
        status = p.status if p.status is not None else err.status
        return f"status {status} · type {p.kind} · {p.detail or p.title}"
    return f"{type(err).__name__}: {err}"


def _line(text: str, *, ok: bool | None = None) -> str:
    color = "inherit" if ok is None else (_OK if ok else _ERROR)
    cls = "xk-info" if ok is None else ("xk-ok" if ok else "xk-error")
    return f'<span class="{cls}" style="color:{color}">{html.escape(text)}</span>'


def _spki_segments() -> list[Segment]:
    return [("header", len(SPKI_PREFIX)), ("point", 1), ("x", 32), ("y", 32)]


def _wrap_segments() -> list[Segment]:
    return [("ephemeral point", 65), ("ciphertext", 32), ("tag", 16)]


def _label(identity: Identity) -> str:
    return f"user {identity.user_id} · key version {identity.version} · {identity.fingerprint[:10]}…"


# ---------------------------------------------------------------------------------- KeyPanel


class KeyPanel(widgets.VBox):
    """Generate an identity, look at its public key, register it on `client` (never shows a private key).

    Widgets: `user_id`, `generate`, `fingerprint`, `sizes`, `byte_map`, `register`, `result`.
    Model: `identity` (the last one generated or used) and `registered_version`.
    """

    def __init__(self, client: Any = None, *, user_id: str | None = None) -> None:
        self.client = client
        self.identity: Identity | None = None
        self.registered_version: str | None = None
        default_id = user_id or (getattr(client, "user_id", None) if client is not None else None) or ""
        self.user_id = widgets.Text(value=default_id, description="user id", placeholder="1 to 19 digits", style=_WIDE)
        self.generate = widgets.Button(
            description="Generate", button_style="primary", tooltip="fresh identity and signing keys"
        )
        self.register = widgets.Button(
            description="Register", disabled=True, tooltip="POST /2/users/{id}/public_keys on the client"
        )
        self.fingerprint = widgets.Text(
            description="fingerprint", disabled=True, style=_WIDE, layout=widgets.Layout(width="36em")
        )
        self.sizes = widgets.HTML()
        self.byte_map = widgets.HTML()
        self.result = widgets.HTML()
        self.generate.on_click(self._on_generate)
        self.register.on_click(self._on_register)
        super().__init__(
            [
                widgets.HBox([self.user_id, self.generate, self.register]),
                self.fingerprint,
                self.sizes,
                self.byte_map,
                self.result,
            ]
        )

    def use(self, identity: Identity, *, registered_version: str | None = None) -> None:
        """Show `identity` (e.g. a demo identity made elsewhere) as if it had just been generated."""
        self.identity = identity
        self.registered_version = registered_version
        pk = identity.public_keys
        spki = from_b64(pk.public_key, what="identity public key")
        self.user_id.value = identity.user_id
        self.fingerprint.value = pk.fingerprint
        self.sizes.value = (
            f"identity public key, key version {html.escape(identity.version)}: "
            f"<b>SPKI {len(spki)} bytes</b> (what the API stores) = {len(SPKI_PREFIX)}-byte DER header + "
            f"<b>SEC1 {len(spki) - len(SPKI_PREFIX)} bytes</b> (04 ‖ X ‖ Y, what the SDK prints)"
        )
        self.byte_map.value = byte_map(spki, _spki_segments())
        self.register.disabled = self.client is None
        if registered_version is not None:
            self.result.value = _line(f"registered: key version {registered_version}", ok=True)
        elif self.client is None:
            self.result.value = _line("no client: pass kit.connect() to KeyPanel to register")
        else:
            self.result.value = _line("not registered yet")

    def _on_generate(self, _button: Any = None) -> None:
        try:
            identity = Identity.generate(self.user_id.value.strip())
        except KitError as exc:
            self.result.value = _line(problem_text(exc), ok=False)
            return
        self.use(identity)

    def _on_register(self, _button: Any = None) -> None:
        if self.identity is None or self.client is None:
            return
        try:
            version = self.client.register_keys(self.identity)
        except KitError as exc:
            self.registered_version = None
            self.result.value = _line(problem_text(exc), ok=False)
            return
        self.registered_version = version
        self.result.value = _line(f"registered: key version {version}", ok=True)


# ---------------------------------------------------------------------------------- WrapExplorer


class WrapExplorer(widgets.VBox):
    """Wrap a fresh conversation key to a participant, flip a byte of the 113, try to unwrap.

    Widgets: `participant`, `wrap`, `byte_map`, `byte`, `flip`, `unwrap`, `result`.
    Model: `wrapped` (the bytes as they are now) and `flipped` (the byte indexes changed).
    """

    def __init__(self, identities: list[Identity]) -> None:
        self.identities: list[Identity] = []
        self.conversation_key: bytes | None = None
        self.wrapped: bytes | None = None
        self.flipped: set[int] = set()
        self.participant = widgets.Dropdown(description="participant", style=_WIDE, layout=widgets.Layout(width="36em"))
        self.wrap = widgets.Button(description="Wrap", button_style="primary", tooltip="wrap a fresh conversation key")
        self.byte = widgets.IntSlider(
            value=70, min=0, max=WRAPPED_KEY_SIZE - 1, description="byte", continuous_update=False
        )
        self.flip = widgets.Button(description="Flip", disabled=True, tooltip="change one bit of the chosen byte")
        self.unwrap = widgets.Button(description="Unwrap", disabled=True, tooltip="open with the participant's key")
        self.byte_map = widgets.HTML()
        self.result = widgets.HTML()
        self.wrap.on_click(self._on_wrap)
        self.flip.on_click(self._on_flip)
        self.unwrap.on_click(self._on_unwrap)
        self.byte.observe(self._on_select, names="value")
        self.set_identities(identities)
        super().__init__(
            [
                widgets.HBox([self.participant, self.wrap]),
                self.byte_map,
                widgets.HBox([self.byte, self.flip, self.unwrap]),
                self.result,
            ]
        )

    def set_identities(self, identities: Iterable[Identity]) -> None:
        """Replace the participants (e.g. after a key rotation)."""
        self.identities = list(identities)
        self.participant.options = [(_label(ident), i) for i, ident in enumerate(self.identities)]
        if self.identities:
            self.participant.value = 0

    def _render(self) -> None:
        if self.wrapped is not None:
            self.byte_map.value = byte_map(
                self.wrapped, _wrap_segments(), flipped=self.flipped, selected=self.byte.value
            )

    def _on_wrap(self, _button: Any = None) -> None:
        if not self.identities:
            self.result.value = _line("no participants to wrap to", ok=False)
            return
        ident = self.identities[self.participant.value]
        self.conversation_key = secrets.token_bytes(32)
        steps = wrap_steps(self.conversation_key, ident.public_keys.public_key)
        self.wrapped = steps.wrapped
        self.flipped = set()
        self.flip.disabled = self.unwrap.disabled = False
        self._render()
        self.result.value = _line(
            f"wrapped a fresh 32-byte conversation key to user {ident.user_id} (key version {ident.version}): "
            f"{len(self.wrapped)} bytes"
        )

    def _on_select(self, _change: Any = None) -> None:
        self._render()

    def _on_flip(self, _button: Any = None) -> None:
        if self.wrapped is None:
            return
        i = self.byte.value
        data = bytearray(self.wrapped)
        data[i] ^= 0x01
        self.wrapped = bytes(data)
        self.flipped ^= {i}
        self._render()
        changed = ", ".join(str(b) for b in sorted(self.flipped)) or "none"
        self.result.value = _line(f"flipped the low bit of byte {i}; bytes changed: {changed}")

    def _on_unwrap(self, _button: Any = None) -> None:
        if self.wrapped is None or not self.identities:
            return
        ident = self.identities[self.participant.value]
        try:
            key = ident.unwrap(self.wrapped)
        except KitError as exc:
            self.result.value = _line(problem_text(exc), ok=False)
            return
        if key == self.conversation_key:
            self.result.value = _line(f"opened: conversation key matches (as user {ident.user_id})", ok=True)
        else:  # AES-GCM makes this unreachable; say so plainly if it ever happens
            self.result.value = _line("opened, but to a different key", ok=False)


# ---------------------------------------------------------------------------------- RequestBuilder

_PATH_FORMS = ("bare", "pair", "reversed")


class RequestBuilder(widgets.VBox):
    """Build the Initialize Conversation Keys request from `identity` to `peer`, send it, read the answer.

    Widgets: `path_form`, `version`, `build`, `send`, `url`, `body`, `result`, and for the first
    message `message`, `send_message`, `message_result`.
    Model: `init` (the last `KeyInit` built), `response` (`KeysResult`) or `problem`.
    """

    def __init__(self, client: Any, identity: Identity, peer: PublicKeys) -> None:
        self.client = client
        self.identity = identity
        self.peer = peer
        self.init: kit.KeyInit | None = None
        self.response: Any = None
        self.problem: kit.Problem | None = None
        self._built_for: tuple[Identity, str] | None = None
        self._sent: kit.KeyInit | None = None
        lo, hi = ConversationId.pair(identity.user_id, peer.user_id).members
        self.path_form = widgets.Dropdown(
            options=[
                (f"bare recipient id: {peer.user_id}", "bare"),
                (f"legacy pair A-B: {lo}-{hi}", "pair"),
                (f"reversed pair B-A: {hi}-{lo}", "reversed"),
            ],
            value="bare",
            description="path id",
            style=_WIDE,
            layout=widgets.Layout(width="36em"),
        )
        self.version = widgets.Text(value=new_version(), description="conversation key version", style=_WIDE)
        self.build = widgets.Button(description="Build", tooltip="prepare_key_init: wrap, describe, sign")
        # `send` shadows Widget.send (custom messages), which a Box never needs; the name is the contract.
        self.send = widgets.Button(
            description="Send", button_style="primary", tooltip="POST /2/chat/conversations/{id}/keys"
        )
        self.url = widgets.HTML()
        self.body = widgets.HTML()
        self.result = widgets.HTML()
        self.message = widgets.Text(value="hello from xchat-kit", description="first message", style=_WIDE)
        self.send_message = widgets.Button(description="Send message", disabled=True, tooltip="after a successful Send")
        self.message_result = widgets.HTML()
        self.build.on_click(self._on_build)
        self.send.on_click(self._on_send)
        self.send_message.on_click(self._on_send_message)
        self.path_form.observe(self._on_path_form, names="value")
        super().__init__(
            [
                self.path_form,
                widgets.HBox([self.version, self.build, self.send]),
                self.url,
                self.result,
                self.body,
                widgets.HBox([self.message, self.send_message]),
                self.message_result,
            ]
        )

    def path_id(self) -> str:
        """The `{id}` the URL uses for the chosen path id form."""
        lo, hi = ConversationId.pair(self.identity.user_id, self.peer.user_id).members
        form = self.path_form.value
        return {"bare": self.peer.user_id, "pair": f"{lo}-{hi}", "reversed": f"{hi}-{lo}"}[form]

    def _on_path_form(self, _change: Any = None) -> None:
        self.url.value = f"<code>POST /2/chat/conversations/{html.escape(self.path_id())}/keys</code>"

    def _prepare(self) -> kit.KeyInit | None:
        version = self.version.value.strip()
        if self.init is not None and self._built_for == (self.identity, version):
            return self.init
        try:
            init = kit.prepare_key_init(self.identity, [self.peer], version=version)
        except KitError as exc:
            self.init = None
            self.body.value = ""
            self.result.value = _line(problem_text(exc), ok=False)
            return None
        self.init = init
        self._built_for = (self.identity, version)
        self._on_path_form()
        pretty = json.dumps(init.body, indent=2)
        self.body.value = (
            f'<pre class="xk-json" style="font-size:11px;max-height:24em;overflow:auto">{html.escape(pretty)}</pre>'
        )
        return init

    def _on_build(self, _button: Any = None) -> None:
        self.init = None  # Build always makes a fresh request (new conversation key, new message id)
        init = self._prepare()
        if init is not None:
            self.result.value = _line(
                f"built: {len(init.participants)} participant keys, conversation key version "
                f"{init.conversation_key_version}; press Send"
            )

    def _on_send(self, _button: Any = None) -> None:
        init = self._prepare()
        if init is None:
            return
        self.response, self.problem = None, None
        try:
            self.response = self.client.add_conversation_keys(init, path_id=self.path_id())
        except KitError as exc:
            self.problem = exc.problem if isinstance(exc, APIError) else None
            self.result.value = _line(problem_text(exc), ok=False)
            return
        self._sent = init
        self.send_message.disabled = False
        self.result.value = _line(
            f"conversation_id: {self.response.conversation_id} · sequence_id: {self.response.sequence_id}", ok=True
        )

    def _on_send_message(self, _button: Any = None) -> None:
        init = self._sent
        if init is None:
            return
        try:
            prepared = kit.prepare_message(
                self.identity,
                init.conversation_id,
                self.message.value,
                conversation_key=init.conversation_key,
                conversation_key_version=init.conversation_key_version,
            )
            event = self.client.send_message(prepared)
            sent = kit.read_message(
                event, conversation_key=init.conversation_key, signing_keys=[self.identity.public_keys]
            )
        except KitError as exc:
            self.message_result.value = _line(problem_text(exc), ok=False)
            return
        self.message_result.value = _line(f"message sent: sequence_id {sent.sequence_id}", ok=True)


# ---------------------------------------------------------------------------------- Inbox


class Inbox(widgets.VBox):
    """The recipient's side: fetch every conversation's events, verify key changes, decrypt messages.

    Widgets: `fetch`, `status`, `table`. Model: `rows`, one dict per event
    (`conversation`, `sequence_id`, `kind`, `sender`, `shows`, `ok`).
    """

    def __init__(self, client: Any, identity: Identity) -> None:
        self.client = client
        self.identity = identity
        self.rows: list[dict[str, Any]] = []
        self.fetch = widgets.Button(
            description="Fetch", button_style="primary", tooltip="GET the events of my conversations"
        )
        self.status = widgets.HTML()
        self.table = widgets.HTML()
        self.fetch.on_click(self._on_fetch)
        super().__init__([widgets.HBox([self.fetch, self.status]), self.table])

    def _on_fetch(self, _button: Any = None) -> None:
        self.rows = []
        try:
            conversations = self.client.get_conversations()
            for conv in conversations:
                self.rows.extend(self._read_conversation(str(conv["id"])))
        except KitError as exc:
            self.status.value = _line(problem_text(exc), ok=False)
            self.table.value = _table(self.rows)
            return
        plural = "" if len(conversations) == 1 else "s"
        self.status.value = _line(
            f"{len(self.rows)} events in {len(conversations)} conversation{plural}, read as user "
            f"{self.identity.user_id} (key version {self.identity.version})"
        )
        self.table.value = _table(self.rows)

    def _read_conversation(self, conversation: str) -> list[dict[str, Any]]:
        key_changes: list[str] = []
        messages: list[str] = []
        for i, page in enumerate(self.client.iter_events(conversation)):
            if i == 0:
                key_changes = list(page.key_changes)
            messages.extend(page.messages)
        signers: dict[str, list[PublicKeys]] = {}

        def keys_of(sender: str) -> list[PublicKeys]:
            if sender not in signers:
                signers[sender] = self.client.get_public_keys(sender)
            return signers[sender]

        rows = []
        conversation_keys: dict[str, bytes] = {}
        for encoded in key_changes:
            row = _envelope(conversation, "key change", encoded)
            try:
                change = kit.read_key_change(encoded, recipient=self.identity, signing_keys=keys_of(row["sender"]))
            except KitError as exc:
                row.update(shows=problem_text(exc), ok=False)
            else:
                conversation_keys[change.conversation_key_version] = change.conversation_key
                row.update(
                    shows=f"signature verified; conversation key version {change.conversation_key_version} unwrapped",
                    ok=True,
                )
            rows.append(row)
        for encoded in reversed(messages):  # the API sends newest first; read them in order
            row = _envelope(conversation, "message", encoded)
            try:
                message = kit.read_message(
                    encoded, conversation_key=conversation_keys, signing_keys=keys_of(row["sender"])
                )
            except KitError as exc:
                row.update(shows=problem_text(exc), ok=False)
            else:
                row.update(shows=message.text, ok=True)
            rows.append(row)
        return rows


def _envelope(conversation: str, kind: str, encoded: str) -> dict[str, Any]:
    row: dict[str, Any] = {"conversation": conversation, "sequence_id": "?", "kind": kind, "sender": "?"}
    try:
        event = read_message_event(
            from_b64(encoded, what=f"{kind} event", max_len=16 * 1024 * 1024), what=f"{kind} event"
        )
    except KitError:
        return row
    row.update(sequence_id=event.sequence_id, sender=event.sender_id)
    return row


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return _line("no events yet")
    head = "".join(
        f"<th style='text-align:left;padding:2px 8px'>{h}</th>"
        for h in ("conversation", "sequence id", "kind", "sender", "what the recipient reads")
    )
    body = []
    for r in rows:
        color = _OK if r.get("ok") else _ERROR
        cells = [r["conversation"], r["sequence_id"], r["kind"], r["sender"]]
        tds = "".join(f"<td style='padding:2px 8px'>{html.escape(str(c))}</td>" for c in cells)
        tds += f"<td class='xk-shows' style='padding:2px 8px;color:{color}'>{html.escape(str(r.get('shows', '')))}</td>"
        body.append(f"<tr>{tds}</tr>")
    return f"<table class='xk-inbox' style='border-collapse:collapse'><tr>{head}</tr>{''.join(body)}</table>"


# ---------------------------------------------------------------------------------- App

ALICE_ID = "1215441834412953600"
BOB_ID = "1603419180975409153"

_INTRO = (
    "<b>X Chat end-to-end encryption, one step per tab.</b> An in-process sandbox (offline) with two users: "
    "alice ({alice}) starts the conversation, bob ({bob}) reads it. They begin with <i>demo-only</i> identities "
    "derived from public seeds; Generate + Register gives alice fresh keys."
)
_STEPS = {
    "keys": "Alice's identity and signing keys. Only public keys are ever shown; "
    "the fingerprint is SHA-256 of the SPKI.",
    "wrap": "The conversation key is wrapped to each participant's identity key (ECIES: ECDH, X9.63 KDF, AES-128-GCM). "
    "Flip a byte and unwrap: AES-GCM's tag refuses it.",
    "init": "The Initialize Conversation Keys call from alice to bob: "
    "pick how the URL names the conversation, Build, Send.",
    "recipient": "Bob fetches the events: the key change is verified and unwrapped, "
    "then the first message is decrypted.",
}


class App(widgets.VBox):
    """The whole flow as one app (for Voila): keys → wrap → init call → recipient, on an in-process sandbox.

    Attributes: `tabs`, the panels `key_panel`, `wrap_explorer`, `request_builder`, `inbox`, the clients `sandbox`,
    `alice_client`, `bob_client`, and the identities `alice` (current) and `bob`.
    """

    def __init__(self) -> None:
        self.sandbox = kit.connect(quiet=True)
        self.alice_client = self.sandbox.sandbox_user("alice", user_id=ALICE_ID)
        self.bob_client = self.sandbox.sandbox_user("bob", user_id=BOB_ID)
        self.alice = Identity.from_seed("alice (demo only)", ALICE_ID, version="1")
        self.bob = Identity.from_seed("bob (demo only)", BOB_ID, version="1")
        alice_version = self.alice_client.register_keys(self.alice)
        self.bob_client.register_keys(self.bob)

        self.key_panel = KeyPanel(self.alice_client, user_id=ALICE_ID)
        self.key_panel.use(self.alice, registered_version=alice_version)
        self.key_panel.register.on_click(self._on_alice_registered)  # runs after the panel's own handler
        self.wrap_explorer = WrapExplorer([self.alice, self.bob])
        self.request_builder = RequestBuilder(
            self.alice_client, self.alice, self.alice_client.latest_public_keys(BOB_ID)
        )
        self.inbox = Inbox(self.bob_client, self.bob)

        pages: list[tuple[str, str, widgets.Widget]] = [
            ("1 · keys", _STEPS["keys"], self.key_panel),
            ("2 · wrap", _STEPS["wrap"], self.wrap_explorer),
            ("3 · init call", _STEPS["init"], self.request_builder),
            ("4 · recipient", _STEPS["recipient"], self.inbox),
        ]
        self.tabs = widgets.Tab(
            children=[widgets.VBox([widgets.HTML(f"<p>{html.escape(text)}</p>"), panel]) for _, text, panel in pages],
            titles=[title for title, _, _ in pages],
        )
        header = widgets.HTML(_INTRO.format(alice=ALICE_ID, bob=BOB_ID))
        super().__init__([header, self.tabs])

    def _on_alice_registered(self, _button: Any = None) -> None:
        fresh = self.key_panel.identity
        if fresh is None or self.key_panel.registered_version is None or fresh is self.alice:
            return
        self.alice = fresh
        self.wrap_explorer.set_identities([self.alice, self.bob])
        self.request_builder.identity = self.alice
