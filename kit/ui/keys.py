"""KeyPanel: generate an identity, see its fingerprint and bytes, register it (notebook 01, app tab 1)."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from kit.encoding import from_b64
from kit.errors import KitError
from kit.keys import SPKI_PREFIX, Identity
from kit.ui.parts import WIDE, Segment, byte_map, problem_text, status_line

__all__ = ["KeyPanel"]


def _spki_segments() -> list[Segment]:
    return [("header", len(SPKI_PREFIX)), ("04 prefix", 1), ("x", 32), ("y", 32)]


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
        self.user_id = widgets.Text(value=default_id, description="user id", placeholder="1 to 19 digits", style=WIDE)
        self.generate = widgets.Button(
            description="Generate", button_style="primary", tooltip="fresh identity and signing keys"
        )
        self.register = widgets.Button(
            description="Register", disabled=True, tooltip="POST /2/users/{id}/public_keys on the client"
        )
        self.fingerprint = widgets.Text(
            description="fingerprint", disabled=True, style=WIDE, layout=widgets.Layout(width="36em")
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
            self.result.value = status_line(f"registered: key version {registered_version}", ok=True)
        elif self.client is None:
            self.result.value = status_line("no client: pass kit.connect() to KeyPanel to register")
        else:
            self.result.value = status_line("not registered yet")

    def _on_generate(self, _button: Any = None) -> None:
        try:
            identity = Identity.generate(self.user_id.value.strip())
        except KitError as exc:
            self.result.value = status_line(problem_text(exc), ok=False)
            return
        self.use(identity)

    def _on_register(self, _button: Any = None) -> None:
        if self.identity is None or self.client is None:
            return
        try:
            version = self.client.register_keys(self.identity)
        except KitError as exc:
            self.registered_version = None
            self.result.value = status_line(problem_text(exc), ok=False)
            return
        self.registered_version = version
        self.result.value = status_line(f"registered: key version {version}", ok=True)
