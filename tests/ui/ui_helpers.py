"""What the kit.ui tests look at: the widget state a panel syncs to the browser, the text an HTML value shows."""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterator

import kit

ALICE_ID = "1215441834412953600"
BOB_ID = "1603419180975409153"


def tree(widget) -> Iterator:
    yield widget
    for child in getattr(widget, "children", ()) or ():
        yield from tree(child)


def front_end_text(panel) -> str:
    """Everything the panel's widgets sync to the browser (values, descriptions, options, titles)."""
    return "\n".join(json.dumps(w.get_state(), default=repr) for w in tree(panel))


def secret_forms(*secrets: bytes | str) -> list[str]:
    forms: list[str] = []
    for s in secrets:
        if isinstance(s, str):
            forms.append(s)
            continue
        forms += [s.hex(), s.hex().upper(), base64.b64encode(s).decode(), base64.b64encode(s).decode().rstrip("=")]
        forms += [base64.urlsafe_b64encode(s).decode().rstrip("=")]
    return forms


def private_forms(identity: kit.Identity) -> list[str]:
    blob = identity.export_keys()
    return secret_forms(blob, blob[:32], blob[32:])


def assert_no_secrets(panel, *identities: kit.Identity, extra: tuple[bytes | str, ...] = ()) -> None:
    text = front_end_text(panel)
    for identity in identities:
        for form in private_forms(identity):
            assert form not in text, f"a private key of user {identity.user_id} reached the widget state"
    for form in secret_forms(*extra):
        assert form not in text, "a secret reached the widget state"


def plain(html_value: str) -> str:
    """The text a widget HTML value shows."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_value))
