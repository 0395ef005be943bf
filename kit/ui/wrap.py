"""WrapExplorer: wrap a conversation key, flip a byte, unwrap (notebook 02, app tab 2)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

import ipywidgets as widgets

from kit.errors import KitError
from kit.keys import Identity
from kit.ui.parts import WIDE, Segment, byte_map, problem_text, status_line
from kit.wrap import WRAPPED_KEY_SIZE, wrap_steps

__all__ = ["WrapExplorer"]


def _wrap_segments() -> list[Segment]:
    return [("ephemeral point", 65), ("ciphertext", 32), ("tag", 16)]


def _label(identity: Identity) -> str:
    return f"user {identity.user_id} · key version {identity.version} · {identity.fingerprint[:10]}…"


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
        self.participant = widgets.Dropdown(description="participant", style=WIDE, layout=widgets.Layout(width="36em"))
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
            self.result.value = status_line("no participants to wrap to", ok=False)
            return
        ident = self.identities[self.participant.value]
        self.conversation_key = secrets.token_bytes(32)
        steps = wrap_steps(self.conversation_key, ident.public_keys.public_key)
        self.wrapped = steps.wrapped
        self.flipped = set()
        self.flip.disabled = self.unwrap.disabled = False
        self._render()
        self.result.value = status_line(
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
        self.result.value = status_line(f"flipped the low bit of byte {i}; bytes changed: {changed}")

    def _on_unwrap(self, _button: Any = None) -> None:
        if self.wrapped is None or not self.identities:
            return
        ident = self.identities[self.participant.value]
        try:
            key = ident.unwrap(self.wrapped)
        except KitError as exc:
            self.result.value = status_line(problem_text(exc), ok=False)
            return
        if key == self.conversation_key:
            self.result.value = status_line(f"opened: conversation key matches (as user {ident.user_id})", ok=True)
        else:  # AES-GCM makes this unreachable; say so plainly if it ever happens
            self.result.value = status_line("opened, but to a different key", ok=False)
