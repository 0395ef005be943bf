"""TrustPanel: compare keys with a contact out of band, and record it (notebooks 05 and 07, app tab 5)."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from kit.errors import KitError
from kit.keys import Identity, PublicKeys, fingerprint
from kit.trust import TrustStore, comparison_code, signing_fingerprint
from kit.ui.parts import WIDE, problem_text, status_line, trust_badge

__all__ = ["TrustPanel"]

_NOTE = (
    "Read the comparison code to each other (in person, or on a call you trust). The same code means you both see "
    "the same four keys. It is the kit's teaching design in the style of Signal's safety numbers, not an X feature."
)


class TrustPanel(widgets.VBox):
    """One user's screen: their fingerprints and their contact's side by side, the comparison code, and Verify.

    `client` fetches `peer_id`'s newest public keys as `identity` sees them; `trust` is the `kit.TrustStore`
    that Verify and Accept change record in (a new one by default).
    Widgets: `refresh`, `sides`, `code`, `trust_state`, `heard`, `verify`, `accept`, `result`.
    Model: `peer_keys` (as fetched, or None), `trust`.
    """

    def __init__(self, client: Any, identity: Identity, peer_id: str, *, trust: TrustStore | None = None) -> None:
        self.client = client
        self.identity = identity
        self.peer_id = peer_id
        self.trust = trust if trust is not None else TrustStore()
        self.peer_keys: PublicKeys | None = None
        self.refresh = widgets.Button(description="Refresh", tooltip="GET the contact's public keys again")
        self.sides = widgets.HTML()
        self.code = widgets.HTML()
        self.trust_state = widgets.HTML()
        self.heard = widgets.Text(
            description="code they read out", placeholder="12 groups of 5 digits", style=WIDE,
            layout=widgets.Layout(width="40em"),
        )
        self.verify = widgets.Button(description="Verify", button_style="primary", tooltip="compare with my code")
        self.accept = widgets.Button(description="Accept change", disabled=True, tooltip="pin the changed keys")
        self.result = widgets.HTML()
        self.refresh.on_click(self._on_refresh)
        self.verify.on_click(self._on_verify)
        self.accept.on_click(self._on_accept)
        super().__init__(
            [
                widgets.HBox([self.refresh, self.trust_state]),
                self.sides,
                self.code,
                widgets.HTML(f"<p style='max-width:40em;font-size:90%'>{html.escape(_NOTE)}</p>"),
                widgets.HBox([self.heard, self.verify, self.accept]),
                self.result,
            ]
        )
        self.add_class("xk-trust")
        self.show()

    def use(self, identity: Identity) -> None:
        """Show the screen of `identity` (e.g. after it registered new keys) and fetch again."""
        self.identity = identity
        self.show()

    def show(self) -> None:
        """Fetch the contact's newest keys and show both sides, the code and the trust state."""
        try:
            self.peer_keys = self.client.latest_public_keys(self.peer_id)
        except KitError as exc:
            self.peer_keys = None
            self.sides.value = _sides(self.identity.public_keys, None, self.peer_id)
            self.code.value = ""
            self.trust_state.value = ""
            self.accept.disabled = True
            self.result.value = status_line(problem_text(exc), ok=False)
            return
        self.sides.value = _sides(self.identity.public_keys, self.peer_keys, self.peer_id)
        self.code.value = (
            "<div>comparison code</div><div class='xk-code' style='font-family:monospace;font-size:150%;"
            f"letter-spacing:1px;max-width:24em'>{html.escape(comparison_code(self.identity, self.peer_keys))}</div>"
        )
        self._show_state()
        self.result.value = ""

    def _show_state(self) -> None:
        if self.peer_keys is None:
            return
        seen = self.trust.check(self.peer_keys)
        self.trust_state.value = f"user {html.escape(self.peer_id)}: {trust_badge(seen.state)}"
        self.accept.disabled = seen.state != "changed"

    def _on_refresh(self, _button: Any = None) -> None:
        self.show()

    def _on_verify(self, _button: Any = None) -> None:
        if self.peer_keys is None:
            return
        try:
            self.trust.verify(self.peer_keys, code=self.heard.value, mine=self.identity)
        except KitError as exc:
            self.result.value = status_line(problem_text(exc), ok=False)
        else:
            self.result.value = status_line(f"verified: the codes match; the keys of user {self.peer_id} are verified", ok=True)
        self._show_state()

    def _on_accept(self, _button: Any = None) -> None:
        if self.peer_keys is None:
            return
        self.trust.accept_change(self.peer_keys)
        self.result.value = status_line(f"accepted: the new keys of user {self.peer_id} are pinned (not verified)")
        self._show_state()


def _sides(mine: PublicKeys, theirs: PublicKeys | None, peer_id: str) -> str:
    def column(title: str, keys: PublicKeys | None) -> list[str]:
        if keys is None:
            return [title, "—", "—"]
        return [
            f"{title}, key version {keys.version}",
            fingerprint(keys.public_key),
            signing_fingerprint(keys),
        ]

    left = column(f"you (user {mine.user_id})", mine)
    right = column(f"them (user {peer_id}), as your client fetched them", theirs)
    rows = [("", left[0], right[0]), ("identity fingerprint", left[1], right[1]), ("signing fingerprint", left[2], right[2])]
    cell = "<td style='padding:2px 8px;font-family:monospace'>{}</td>"
    body = "".join(
        f"<tr><th style='text-align:left;padding:2px 8px'>{html.escape(name)}</th>"
        + cell.format(html.escape(a))
        + cell.format(html.escape(b))
        + "</tr>"
        for name, a, b in rows
    )
    return f"<table class='xk-sides' style='border-collapse:collapse'>{body}</table>"

