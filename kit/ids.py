"""Conversation ids, user ids and key versions.

Three spellings of one 1:1 conversation, and where each belongs:

- ``A:B`` (``min:max``, numeric order) is the *canonical* id: it is signed in action
  signatures and stored in Thrift events.
- ``A-B`` (``min-max``) is the *path* id: URLs and JSON responses use it.
- a bare user id ``B`` in a URL means "the conversation between the caller and B".

A group id is ``g`` followed by digits and is the same everywhere. Ids compare as numbers,
never as text: ``"9" < "10"``.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

from kit.errors import WireFormatError

__all__ = [
    "INT64_MAX",
    "MAX_VERSION_SKEW_MS",
    "PATH_ID_PATTERN",
    "ConversationId",
    "check_user_id",
    "check_version",
    "new_version",
    "version_key",
]

#: The largest signed 64-bit integer: user ids and key versions are i64 in the official SDK.
INT64_MAX = 2**63 - 1

#: How far into the future a key version (a millisecond timestamp) may be: one day of clock skew.
#: A version from further ahead would make every later rotation "not newer" until that day.
MAX_VERSION_SKEW_MS = 24 * 60 * 60 * 1000

#: The `{id}` path parameter of every `/2/chat/conversations/{id}/...` endpoint (X API 2.167).
# `\Z`, not `$`: in Python `$` also matches before a trailing newline ("1-2\n").
PATH_ID_PATTERN = re.compile(r"^([0-9]{1,19}|[0-9]{1,19}-[0-9]{1,19}|g[0-9]{1,19})\Z")
# ASCII only: `[0-9]`, or isdigit() after isascii(); `\d` and a bare isdigit() also take "²", "١٢٣", "１２３".
_USER_ID = re.compile(r"^[1-9][0-9]{0,18}\Z")
_VERSION = re.compile(r"^(0|[1-9][0-9]{0,18})\Z")


def _why_not_decimal(text: str, *, i64: bool = True) -> str:
    """What a string of ASCII digits breaks, beyond being digits ("" when nothing)."""
    if len(text) > 1 and text[0] == "0":
        return ": no leading zero (one number has one spelling)"
    if len(text) > 19 or (i64 and int(text) > INT64_MAX):
        return f": at most {INT64_MAX} (an i64, as the SDK stores it)" if i64 else ""
    return ""


def check_user_id(user_id: object, *, what: str = "user id", i64: bool = False) -> str:
    """Return `user_id` if it is a user id as the X API spells one, else raise `WireFormatError`:
    ASCII decimal digits without a leading zero (``^[1-9][0-9]{0,18}$``). So "0001" is refused,
    never taken for user "1". With `i64`, also at most `INT64_MAX` (the SDK stores sender ids as
    i64): the sandbox asks that of the ids it creates, so no user above it ever exists."""
    if not isinstance(user_id, str) or not user_id.isascii() or not user_id.isdigit():
        raise WireFormatError(f"{what} must be 1 to 19 decimal digits, got {user_id!r}")
    why = ": a user id is not 0" if user_id == "0" else _why_not_decimal(user_id, i64=i64)
    if why or not _USER_ID.match(user_id):
        raise WireFormatError(f"{what} must be 1 to 19 decimal digits, got {user_id!r}{why}")
    return user_id


def version_key(version: object, *, what: str = "version") -> int:
    """The number a version stands for: sort and compare versions by this, not as text.

    Raises `WireFormatError` unless `version` is ASCII decimal digits without a leading zero
    and at most `INT64_MAX`: one number has one spelling, so "017" cannot pose as a second "17"."""
    if not isinstance(version, str) or not version.isascii() or not version.isdigit():
        raise WireFormatError(f"{what} must be a string of decimal digits, got {version!r}")
    why = _why_not_decimal(version)
    if why or not _VERSION.match(version):
        raise WireFormatError(f"{what} must be a string of decimal digits, got {version!r}{why}")
    return int(version)


def check_version(version: object, *, what: str = "version", now_ms: int | None = None) -> str:
    """Return `version` if it is a key version the kit may build or accept, else raise `WireFormatError`.

    A version is a millisecond timestamp (see `version_key` for its spelling) and at most
    `MAX_VERSION_SKEW_MS` (one day) ahead of `now_ms` (the current time by default): a version
    from the far future would make every later rotation "not newer" until that day comes."""
    value = version_key(version, what=what)
    now = int(time.time() * 1000) if now_ms is None else int(now_ms)
    if value > now + MAX_VERSION_SKEW_MS:
        raise WireFormatError(
            f"{what} {version} is more than one day in the future (now is {now} ms): a version is a millisecond "
            "timestamp, and one from the far future would block every later rotation"
        )
    return str(version)


def _user_key(user_id: str) -> tuple[int, str]:
    # (length, text) is numeric order for decimal strings without leading zeros, and stays a
    # total order if someone sends leading zeros.
    return (len(user_id), user_id)


_last_version = 0
_version_lock = threading.Lock()


def new_version(*, now_ms: int | None = None) -> str:
    """A fresh key version: the time in milliseconds, strictly greater than any minted before
    in this process (two calls in the same millisecond get consecutive numbers)."""
    global _last_version
    stamp = int(time.time() * 1000) if now_ms is None else int(now_ms)
    with _version_lock:
        _last_version = max(stamp, _last_version + 1)
        return str(_last_version)


@dataclass(frozen=True)
class ConversationId:
    """A conversation id in its canonical form, with its other spellings as properties.

    >>> cid = ConversationId.parse("20-3")
    >>> cid.canonical, cid.path
    ('3:20', '3-20')
    """

    canonical: str

    @classmethod
    def parse(cls, text: object, *, caller: str | None = None) -> ConversationId:
        """Read any spelling: ``A:B``, ``A-B`` (either order), a ``g…`` group id, or a bare
        recipient id (which needs `caller`, the user the conversation is with)."""
        if not isinstance(text, str) or not text:
            raise WireFormatError(f"conversation id must be a non-empty string, got {text!r}")
        if text.startswith("g"):
            if not re.fullmatch(r"g[0-9]{1,19}", text):
                raise WireFormatError(f"group conversation id must be 'g' and 1 to 19 digits, got {text!r}")
            return cls(text)
        for sep in (":", "-"):
            if sep in text:
                a, _, b = text.partition(sep)
                check_user_id(a, what=f"first user id in conversation id {text!r}")
                check_user_id(b, what=f"second user id in conversation id {text!r}")
                return cls.pair(a, b)
        check_user_id(text, what="conversation id")
        if caller is None:
            raise WireFormatError(
                f"conversation id {text!r} is a bare user id: say who the other participant is (caller=...)"
            )
        return cls.pair(caller, text)

    @classmethod
    def pair(cls, a: str, b: str) -> ConversationId:
        """The 1:1 conversation between users `a` and `b`, in canonical ``min:max`` order."""
        check_user_id(a)
        check_user_id(b)
        lo, hi = sorted((a, b), key=_user_key)
        return cls(f"{lo}:{hi}")

    @property
    def is_group(self) -> bool:
        """True for a ``g…`` group id."""
        return self.canonical.startswith("g")

    @property
    def path(self) -> str:
        """The spelling for URL paths and JSON: ``min-max`` or the group id."""
        return self.canonical.replace(":", "-")

    @property
    def members(self) -> tuple[str, ...]:
        """The two user ids of a 1:1 conversation in numeric order; empty for a group."""
        return () if self.is_group else tuple(self.canonical.split(":"))

    def __str__(self) -> str:
        return self.canonical
