"""App: the five panels as one app on an in-process sandbox with two demo users (notebooks/app.ipynb)."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from kit.keys import Identity
from kit.trust import TrustStore
from kit.ui.inbox import Inbox
from kit.ui.keys import KeyPanel
from kit.ui.request import RequestBuilder
from kit.ui.trust import TrustPanel
from kit.ui.wrap import WrapExplorer

__all__ = ["ALICE_ID", "BOB_ID", "App"]


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
    "then the first message is decrypted. Bob pins the keys of each signer he meets (trust on first use).",
    "trust": "A signature proves which keys signed, not whose they are. Alice's screen (left) and bob's (right) "
    "each show the comparison code of the keys that client fetched: type alice's code into bob's screen and Verify.",
}


class App(widgets.VBox):
    """The whole flow as one app (for Voila): keys → wrap → init call → recipient → trust, on an in-process sandbox.

    Attributes: `tabs`, the panels `key_panel`, `wrap_explorer`, `request_builder`, `inbox`, `alice_trust` and
    `bob_trust` (each user's TrustPanel), bob's `trust` store (shared by his inbox and his trust panel), the
    clients `sandbox`, `alice_client`, `bob_client`, and the identities `alice` (current) and `bob`.
    """

    def __init__(self) -> None:
        from kit.client import connect  # httpx loads with the first App, not with `import kit.ui`

        self.sandbox = connect(quiet=True)
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
        self.trust = TrustStore()
        self.inbox = Inbox(self.bob_client, self.bob, trust=self.trust)
        self.alice_trust = TrustPanel(self.alice_client, self.alice, BOB_ID)
        self.bob_trust = TrustPanel(self.bob_client, self.bob, ALICE_ID, trust=self.trust)

        pages: list[tuple[str, str, widgets.Widget]] = [
            ("1 · keys", _STEPS["keys"], self.key_panel),
            ("2 · wrap", _STEPS["wrap"], self.wrap_explorer),
            ("3 · init call", _STEPS["init"], self.request_builder),
            ("4 · recipient", _STEPS["recipient"], self.inbox),
            ("5 · trust", _STEPS["trust"], widgets.HBox([self.alice_trust, self.bob_trust])),
        ]
        self.tabs = widgets.Tab(
            children=[widgets.VBox([widgets.HTML(f"<p>{html.escape(text)}</p>"), panel]) for _, text, panel in pages],
            titles=[title for title, _, _ in pages],
        )
        self.tabs.observe(self._on_tab, names="selected_index")
        header = widgets.HTML(_INTRO.format(alice=ALICE_ID, bob=BOB_ID))
        super().__init__([header, self.tabs])

    def _on_tab(self, change: Any) -> None:
        if change["new"] == len(self.tabs.children) - 1:  # the trust tab: what bob's inbox pinned since shows
            self.alice_trust.show()
            self.bob_trust.show()

    def _on_alice_registered(self, _button: Any = None) -> None:
        fresh = self.key_panel.identity
        if fresh is None or self.key_panel.registered_version is None or fresh is self.alice:
            return
        self.alice = fresh
        self.wrap_explorer.set_identities([self.alice, self.bob])
        self.request_builder.identity = self.alice
        self.alice_trust.use(self.alice)
        self.bob_trust.show()
