"""Ready-made values to inspect: X's API reference sample, a kit-made init, chatxdk's outputs and errors.

The files are in kit/spec (see kit/spec/PROVENANCE.md for where each comes from); they ship with the kit.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["SPEC", "load", "samples"]

SPEC = Path(__file__).resolve().parent.parent / "spec"


@cache
def load(name: str) -> Any:
    """A sample file of kit/spec by its short name: "initialize-conversation-keys", "chatxdk", "key-init-demo"."""
    return json.loads((SPEC / f"sample-{name}.json").read_text(encoding="utf-8"))


def samples() -> dict[str, str]:
    """Text to paste, by label: each one a kind the inspector reads."""
    docs, demo, sdk = load("initialize-conversation-keys"), load("key-init-demo"), load("chatxdk")
    out = {
        "X docs: the API reference's sample request (Initialize Conversation Keys)": json.dumps(docs["request"], indent=2),
        "kit: an init request in the shape of the spec's decoded sample (demo keys)": json.dumps(demo["body"], indent=2),
        "kit: its encoded_message_event_detail": demo["body"]["action_signatures"][0]["encoded_message_event_detail"],
        "chatxdk: a registration body": json.dumps(sdk["registration"], indent=2),
        "chatxdk: an init request": json.dumps(sdk["init_request"], indent=2),
        "chatxdk: a message request": json.dumps(sdk["send_message_request"], indent=2),
    }
    out.update({f"chatxdk error: {label}": text for label, text in sdk["errors"].items()})
    return out
