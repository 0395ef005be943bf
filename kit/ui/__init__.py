"""Widget panels for the notebooks and the Voila app: the only package that imports ipywidgets.

Each panel is a `VBox` that holds kit objects (the model) and widgets (the view). Its
callbacks call kit functions and set widget values; they never print and never write into an
`Output` widget, so a notebook shows the same thing in JupyterLab, Voila and nbval.

- `KeyPanel(client)` (`kit.ui.keys`): generate an identity, see its fingerprint and bytes, register it.
- `WrapExplorer(identities)` (`kit.ui.wrap`): wrap a conversation key, flip a byte, unwrap.
- `RequestBuilder(client, identity, peer)` (`kit.ui.request`): build and send the Initialize Conversation Keys call.
- `Inbox(client, identity, trust=...)` (`kit.ui.inbox`): fetch events as the recipient, verify, unwrap,
  decrypt, and show each signer's trust state (pinned / verified / changed).
- `TrustPanel(client, identity, peer_id, trust=...)` (`kit.ui.trust`): both users' fingerprints and the
  comparison code side by side; Verify takes the code the contact reads out.
- `Inspector()` (`kit.ui.inspector`): paste a blob, a body or an error; see its kind, bytes, fields and notes.
- `App()` (`kit.ui.app`): all of them on an in-process sandbox with two demo users, as one app.

What they share (the byte map, the status line, problem text) is in `kit.ui.parts`.

The widgets of a panel are its attributes (`panel.generate.click()`, `panel.result.value`), and
no widget ever holds a private key, a conversation key or an access token.
"""

from __future__ import annotations

from kit.ui.app import App
from kit.ui.inbox import Inbox
from kit.ui.inspector import Inspector
from kit.ui.keys import KeyPanel
from kit.ui.parts import byte_map, problem_text
from kit.ui.request import RequestBuilder
from kit.ui.trust import TrustPanel
from kit.ui.wrap import WrapExplorer

__all__ = ["App", "Inbox", "Inspector", "KeyPanel", "RequestBuilder", "TrustPanel", "WrapExplorer", "byte_map", "problem_text"]
