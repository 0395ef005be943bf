"""What one request may hold, checked before any schema walk: a body size per operation, array
lengths, string sizes and object sizes, text that is UTF-8, numbers in ASCII.

The OpenAPI document bounds a few values (a query's `ids`: 100 items; `max_results`: 100) and
most not at all, so the sandbox sets its own bounds, each named in the problem it answers and
listed in the README. With them, a hostile body costs the one worker a JSON parse and one pass
over what was parsed, never one jsonschema error per array item (issue 12: four million
`group_members` held the worker 51 s).
"""

from __future__ import annotations

import re
from typing import Any

from kit.errors import APIError

__all__ = [
    "BODY_LIMITS",
    "CONVERSATION_QUOTA_BYTES",
    "MAX_ARRAY_ITEMS",
    "MAX_DELETE_IDS",
    "MAX_MESSAGE_BYTES",
    "MAX_MESSAGE_CHARS",
    "MAX_OBJECT_MEMBERS",
    "MAX_PARTICIPANTS",
    "MAX_STRING_CHARS",
    "body_limit",
    "check_shape",
    "check_text",
    "is_ascii_number",
]

#: Participants of one conversation (group members, wrapped keys of one key change). The
#: document sets no bound; 10,000 is the kit's largest benchmarked roster (a 5.4 MB init).
MAX_PARTICIPANTS = 10_000

#: The decoded `encoded_message_create_event` of one message. An X message holds at most 10,000
#: characters (40,000 UTF-8 bytes at worst) and may quote a whole earlier message as its reply
#: preview, so 128 KiB is room for both plus the sealed blob's 40 bytes; media goes through
#: the media endpoints, never inline. 15 messages of 4.7 MB are what made one read return 63 MB.
MAX_MESSAGE_BYTES = 128 * 1024

#: Stored event bytes per conversation: 512 messages of the largest size, or about 25 key
#: changes of a 10,000-member group. A workshop conversation stays far below it; a participant
#: who floods one is refused with a 403 and the conversation still reads in pages.
CONVERSATION_QUOTA_BYTES = 64 * 1024 * 1024

#: Members of one JSON object (the largest X API body object has 11 properties).
MAX_OBJECT_MEMBERS = 64

#: A string's default bound, in characters (ids, signatures, keys, names and URLs are shorter).
MAX_STRING_CHARS = 4096

# Per participant: ~535 bytes of body, ~275 of them the base64 event detail (measured at 200).
_PER_PARTICIPANT_BODY = 600
_PER_PARTICIPANT_DETAIL = 320
_PER_MEMBER_ID = 32  # a quoted 19-digit id and its comma


def _b64_chars(n: int) -> int:
    return 4 * ((n + 2) // 3)


#: `MAX_MESSAGE_BYTES` as base64 characters (how the body carries it).
MAX_MESSAGE_CHARS = _b64_chars(MAX_MESSAGE_BYTES)

#: The largest array of each body property (anything else: `MAX_ARRAY_ITEMS`).
ARRAY_LIMITS: dict[str, int] = {
    "group_members": MAX_PARTICIPANTS,
    "group_admins": MAX_PARTICIPANTS,
    "user_ids": MAX_PARTICIPANTS,
    "conversation_participant_keys": MAX_PARTICIPANTS,
    "message_signing_key_info_list": MAX_PARTICIPANTS,
    "action_signatures": 16,
}
MAX_ARRAY_ITEMS = 100

#: The longest string of each body property, in characters (anything else: `MAX_STRING_CHARS`).
STRING_LIMITS: dict[str, int] = {
    "encoded_message_event_detail": 4096 + MAX_PARTICIPANTS * _PER_PARTICIPANT_DETAIL,
    "signature_payload": 4096 + MAX_PARTICIPANTS * _PER_PARTICIPANT_DETAIL,
    "base64_encoded_key_rotation": 4096 + MAX_PARTICIPANTS * _PER_PARTICIPANT_DETAIL,
    "encoded_message_create_event": 8 * MAX_MESSAGE_CHARS,  # over MAX_MESSAGE_CHARS: sendChatMessage's 413
    "message_id": 256,
}

_KEY_CHANGE_BODY = 16 * 1024 + MAX_PARTICIPANTS * _PER_PARTICIPANT_BODY
#: The most sequence ids one delete may name (a sandbox choice; X documents no limit).
MAX_DELETE_IDS = 1000

#: The largest request body of each operation, in bytes; the global `MAX_BODY_BYTES` (8 MiB)
#: still applies first. Operations without a body (GETs, group initialize) get 1 KiB.
BODY_LIMITS: dict[str, int] = {
    "addUserPublicKey": 16 * 1024,  # a registration body is ~0.7 kB
    "sendChatMessage": 2 * MAX_MESSAGE_CHARS,  # the message, its signature and ids; a larger one gets the same 413  # the message plus its signature and ids
    "addConversationKeys": _KEY_CHANGE_BODY,  # 6.0 MB: 10,000 participants (a 1:1 key body is 1.5 kB)
    "createChatConversation": _KEY_CHANGE_BODY + 2 * MAX_PARTICIPANTS * _PER_MEMBER_ID + 16 * 1024,
    "addChatGroupMembers": _KEY_CHANGE_BODY + 2 * MAX_PARTICIPANTS * _PER_MEMBER_ID + 16 * 1024,  # the roster, signed twice
    "createSandboxUser": 4 * 1024,
    "joinRoom": 4 * 1024,  # {"name": ...}: 32 characters
    "deleteChatMessages": 16 * 1024 + MAX_DELETE_IDS * 96,  # each id: ~24 chars in the body, ~32 in the signed detail
}
_NO_BODY_LIMIT = 1024


def body_limit(op_id: str) -> int:
    """The largest body `op_id` accepts, in bytes."""
    return BODY_LIMITS.get(op_id, _NO_BODY_LIMIT)


_ASCII_NUMBER = re.compile(r"[0-9]{1,20}\Z")


def is_ascii_number(text: object, *, max_digits: int = 20) -> bool:
    """Whether `text` is 1 to `max_digits` ASCII digits: safe for int(), unlike str.isdigit(),
    which is also true of "²", "١٢٣" and "１２３" (and int() then fails or reads them)."""
    return isinstance(text, str) and len(text) <= max_digits and _ASCII_NUMBER.match(text) is not None


def check_text(value: str, where: str, *, limit: int = MAX_STRING_CHARS, parameter: str | None = None) -> None:
    """A 400 naming `where` unless `value` is at most `limit` characters of UTF-8-encodable text
    (a lone surrogate such as "\\ud800" is valid JSON but no text: SQLite cannot store it)."""
    if len(value) > limit:
        raise APIError.of(
            400, f"{where} is {len(value)} characters; the sandbox accepts at most {limit} here", parameter=parameter or where
        )
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise APIError.of(
                400,
                f"{where} is not UTF-8 text: it holds a lone surrogate {value[exc.start]!r} at character {exc.start}",
                parameter=parameter or where,
            ) from None


def _path(parts: tuple[Any, ...]) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def check_shape(body: Any) -> None:
    """One pass over a parsed JSON body, stopping at the first value over its bound: arrays
    (`ARRAY_LIMITS` by property name, else `MAX_ARRAY_ITEMS`), strings (`STRING_LIMITS`, else
    `MAX_STRING_CHARS`; UTF-8 text only), objects (`MAX_OBJECT_MEMBERS`, keys as strings)."""
    stack: list[tuple[Any, tuple[Any, ...], str]] = [(body, (), "")]
    while stack:
        node, where, name = stack.pop()
        kind = type(node)
        if kind is str:
            check_text(node, _path(where), limit=STRING_LIMITS.get(name, MAX_STRING_CHARS))
        elif kind is list:
            limit = ARRAY_LIMITS.get(name, MAX_ARRAY_ITEMS)
            if len(node) > limit:
                raise APIError.of(
                    400,
                    f"{_path(where)} has {len(node)} items; the sandbox accepts at most {limit} here",
                    parameter=_path(where),
                )
            stack.extend((item, (*where, i), name) for i, item in enumerate(node) if type(item) in (str, list, dict))
        elif kind is dict:
            if len(node) > MAX_OBJECT_MEMBERS:
                raise APIError.of(
                    400,
                    f"{_path(where)} has {len(node)} members; no X API object has more than {MAX_OBJECT_MEMBERS}",
                    parameter=_path(where),
                )
            for key, item in node.items():
                check_text(key, f"{_path(where)} member name", limit=256)
                if type(item) in (str, list, dict):
                    stack.append((item, (*where, key), key))
