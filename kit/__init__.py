"""xchat-kit: the end-to-end encryption of X Chat, one readable step at a time.

The notebook surface. Importing it has no side effects: no network, no global options,
and the HTTP client, sandbox, tables and widgets load only when first used.

    >>> import kit
    >>> alice = kit.Identity.from_seed("alice (demo only)", "1001")
    >>> bob = kit.Identity.from_seed("bob (demo only)", "2002")
    >>> init = kit.prepare_key_init(alice, [bob.public_keys])
    >>> init.path_id
    '1001-2002'
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from kit.errors import (
    APIError,
    Conflict,
    DecryptionError,
    Forbidden,
    InvalidRequest,
    KeyNotFoundError,
    KitError,
    NotFound,
    PayloadTooLarge,
    Problem,
    RateLimited,
    ServiceUnavailable,
    SignatureError,
    TrustError,
    Unauthorized,
    WireFormatError,
)
from kit.group import GroupCreate, GroupEvent, MembersChange, prepare_group_create, prepare_members_change, read_group_event
from kit.ids import ConversationId, new_version
from kit.keyring import Adoption, Keyring
from kit.keys import Identity, PublicKeys, fingerprint
from kit.content import Entity, QuickReply
from kit.message import (
    EventBatch,
    Message,
    PreparedDelete,
    PreparedMessage,
    ReplyPreview,
    prepare_delete,
    prepare_edit,
    prepare_message,
    prepare_reaction,
    read_events,
    read_message,
)
from kit.protocol import KeyChange, KeyInit, prepare_key_init, read_key_change
from kit.trust import Trust, TrustStore, comparison_code

__version__ = "0.1.0"

# Names that pull in heavier modules (httpx, uvicorn, pandas, ipywidgets) load on first use; the
# inspector is light but only needed by some, so it loads on first use too.
_LAZY = {
    "Client": "kit.client",
    "Room": "kit.room",
    "connect": "kit.client",
    "Explanation": "kit.inspector",
    "Inspection": "kit.inspector",
    "explain": "kit.inspector",
    "inspect": "kit.inspector",
    "join": "kit.room",
}

__all__ = [
    "APIError",
    "Adoption",
    "Client",
    "Conflict",
    "ConversationId",
    "DecryptionError",
    "Entity",
    "EventBatch",
    "Explanation",
    "Forbidden",
    "GroupCreate",
    "GroupEvent",
    "Identity",
    "Inspection",
    "InvalidRequest",
    "KeyChange",
    "KeyInit",
    "KeyNotFoundError",
    "Keyring",
    "KitError",
    "MembersChange",
    "Message",
    "NotFound",
    "PayloadTooLarge",
    "PreparedDelete",
    "PreparedMessage",
    "Problem",
    "PublicKeys",
    "QuickReply",
    "RateLimited",
    "ReplyPreview",
    "Room",
    "ServiceUnavailable",
    "SignatureError",
    "Trust",
    "TrustError",
    "TrustStore",
    "Unauthorized",
    "WireFormatError",
    "comparison_code",
    "connect",
    "explain",
    "fingerprint",
    "inspect",
    "join",
    "new_version",
    "prepare_delete",
    "prepare_edit",
    "prepare_group_create",
    "prepare_key_init",
    "prepare_members_change",
    "prepare_message",
    "prepare_reaction",
    "read_events",
    "read_group_event",
    "read_key_change",
    "read_message",
]


# Submodules for notebooks, reachable as kit.ui / kit.tables after a plain `import kit`.
_SUBMODULES = {
    "client", "sandbox", "tables", "ui", "wrap", "thrift", "signature", "keys", "ids", "vault", "points", "encoding",
    "lesson", "trust", "inspector", "room", "content", "message", "group", "thrift_group",
}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return import_module(f"kit.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kit' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
