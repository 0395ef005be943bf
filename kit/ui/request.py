"""RequestBuilder: build and send the Initialize Conversation Keys call (notebooks 03 and 04, app tab 3)."""

from __future__ import annotations

import html
import json
from typing import Any

import ipywidgets as widgets

from kit.errors import APIError, KitError, Problem
from kit.ids import ConversationId, new_version
from kit.keys import Identity, PublicKeys
from kit.message import prepare_message, read_message
from kit.protocol import KeyInit, prepare_key_init
from kit.ui.parts import WIDE, problem_text, status_line

__all__ = ["RequestBuilder"]


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
        self.init: KeyInit | None = None
        self.response: Any = None
        self.problem: Problem | None = None
        self._built_for: tuple[Identity, str] | None = None
        self._sent: KeyInit | None = None
        lo, hi = ConversationId.pair(identity.user_id, peer.user_id).members
        self.path_form = widgets.Dropdown(
            options=[
                (f"bare recipient id: {peer.user_id}", "bare"),
                (f"legacy pair A-B: {lo}-{hi}", "pair"),
                (f"reversed pair B-A: {hi}-{lo}", "reversed"),
            ],
            value="bare",
            description="path id",
            style=WIDE,
            layout=widgets.Layout(width="36em"),
        )
        self.version = widgets.Text(value=new_version(), description="conversation key version", style=WIDE)
        self.build = widgets.Button(description="Build", tooltip="prepare_key_init: wrap, describe, sign")
        # `send` shadows Widget.send (custom messages), which a Box never needs; the name is the contract.
        self.send = widgets.Button(
            description="Send", button_style="primary", tooltip="POST /2/chat/conversations/{id}/keys"
        )
        self.url = widgets.HTML()
        self.body = widgets.HTML()
        self.result = widgets.HTML()
        self.message = widgets.Text(value="hello from xchat-kit", description="first message", style=WIDE)
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

    def _prepare(self) -> KeyInit | None:
        version = self.version.value.strip()
        if self.init is not None and self._built_for == (self.identity, version):
            return self.init
        try:
            init = prepare_key_init(self.identity, [self.peer], version=version)
        except KitError as exc:
            self.init = None
            self.body.value = ""
            self.result.value = status_line(problem_text(exc), ok=False)
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
            self.result.value = status_line(
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
            self.result.value = status_line(problem_text(exc), ok=False)
            return
        self._sent = init
        self.send_message.disabled = False
        self.result.value = status_line(
            f"conversation_id: {self.response.conversation_id} · sequence_id: {self.response.sequence_id}", ok=True
        )

    def _on_send_message(self, _button: Any = None) -> None:
        init = self._sent
        if init is None:
            return
        try:
            prepared = prepare_message(
                self.identity,
                init.conversation_id,
                self.message.value,
                conversation_key=init.conversation_key,
                conversation_key_version=init.conversation_key_version,
            )
            event = self.client.send_message(prepared)
            sent = read_message(
                event, conversation_key=init.conversation_key, signing_keys=[self.identity.public_keys]
            )
        except KitError as exc:
            self.message_result.value = status_line(problem_text(exc), ok=False)
            return
        self.message_result.value = status_line(f"message sent: sequence_id {sent.sequence_id}", ok=True)
