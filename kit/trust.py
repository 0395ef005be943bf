"""Trust: whose keys these are. Pinned and verified public keys, and the comparison code.

A signature proves *which keys* signed; it says nothing about *whose* keys they are. Anyone who
holds a user's access token can register new keys for that user and sign with them, and a server
that lies can hand out anybody's keys under anybody's user id: every binding and action signature
still verifies. End-to-end messengers answer with two habits, and so does the kit:

- **pin** the keys you first saw for a user (trust on first use) and notice when they change;
- **compare a code out of band**: both users compute `comparison_code(mine, theirs)` from what
  their own client fetched, and read it to each other. The same code means both see the same
  four keys; a different one means someone in between swapped keys.

The comparison code is the kit's teaching design, in the style of Signal's safety numbers; it is
not an X feature. What X's SDK exposes is the fingerprint (`get_public_key_fingerprint`), which
`kit.fingerprint` matches.

    >>> import kit
    >>> alice = kit.Identity.from_seed("alice (demo only)", "1001")
    >>> bob = kit.Identity.from_seed("bob (demo only)", "2002")
    >>> trust = kit.TrustStore()
    >>> trust.check(alice.public_keys).state
    'new'
    >>> trust.pin(alice.public_keys).state
    'pinned'
    >>> code = kit.comparison_code(bob.public_keys, alice.public_keys)   # bob's screen
    >>> code == kit.comparison_code(alice.public_keys, bob.public_keys)  # alice's screen
    True
    >>> trust.verify(alice.public_keys, code=code, mine=bob.public_keys).state
    'verified'
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.errors import KitError, TrustError
from kit.ids import check_user_id, check_version
from kit.keys import Identity, PublicKeys, fingerprint, load_public_key, spki

__all__ = ["STATES", "Trust", "TrustStore", "comparison_code", "signing_fingerprint"]

#: What a `Trust` can say about a user's keys.
STATES = ("new", "pinned", "verified", "changed")

#: The comparison code: 12 groups of 5 digits, 6 groups from each user's keys.
GROUPS = 12
_DIGITS = GROUPS * 5
# Like Signal's safety numbers: hashed many times over, so that finding other keys with the same
# 30 digits costs more than one hash per try.
_ITERATIONS = 5200
_CODE_LABEL = b"xchat-kit comparison code v1\x00"
_FILE_KIND = "xchat-kit trust store"
_FILE_FORMAT = 1
_FINGERPRINT = re.compile(r"[A-Za-z0-9_-]{43}")


def signing_fingerprint(keys: PublicKeys) -> str:
    """The signing key's fingerprint, made like `kit.fingerprint` (base64url of SHA-256 over its SPKI)."""
    return fingerprint(keys.signing_public_key)


def _public(keys: PublicKeys | Identity, what: str) -> PublicKeys:
    if isinstance(keys, Identity):
        return keys.public_keys
    if not isinstance(keys, PublicKeys):
        raise TypeError(f"{what} must be kit.PublicKeys (or a kit.Identity), got {type(keys).__name__}")
    return keys


def _half(keys: PublicKeys) -> str:
    """30 digits from one user's id, identity key and signing key."""
    uid = keys.user_id.encode("ascii")
    material = spki(load_public_key(keys.public_key, what=f"identity public key of user {keys.user_id}"))
    material += spki(load_public_key(keys.signing_public_key, what=f"signing public key of user {keys.user_id}"))
    digest = hashlib.sha512(_CODE_LABEL + len(uid).to_bytes(4, "big") + uid + material).digest()
    for _ in range(_ITERATIONS):
        digest = hashlib.sha512(digest + material).digest()
    return "".join(f"{int.from_bytes(digest[i : i + 5], 'big') % 100000:05d}" for i in range(0, 30, 5))


def comparison_code(a_keys: PublicKeys | Identity, b_keys: PublicKeys | Identity) -> str:
    """The code two users read to each other: 12 groups of 5 digits, the same whichever order the keys come in.

    Made from both users' ids, identity keys and signing keys, so it changes when any of them does.
    The kit's teaching design in the style of Signal's safety numbers, not an X feature.
    """
    halves = sorted((_half(_public(a_keys, "a_keys")), _half(_public(b_keys, "b_keys"))))
    digits = "".join(halves)
    return " ".join(digits[i : i + 5] for i in range(0, _DIGITS, 5))


def _digits(code: object) -> str:
    if not isinstance(code, str):
        raise TrustError(f"a comparison code is text (12 groups of 5 digits), got {type(code).__name__}")
    digits = re.sub(r"[\s\-]", "", code)
    if not digits.isdigit() or len(digits) != _DIGITS:
        raise TrustError(
            f"a comparison code is {_DIGITS} digits (12 groups of 5), got {len(digits)} characters: "
            "ask your contact to read it again; nothing was changed"
        )
    return digits


@dataclass(frozen=True)
class Trust:
    """What a `TrustStore` knows of one user's keys: `state` is "new", "pinned", "verified" or "changed".

    `fingerprint` is of the keys looked at, `pinned_fingerprint` of the ones pinned or verified before
    (None when new); `reason` says why in one line.
    """

    state: str
    user_id: str
    fingerprint: str
    pinned_fingerprint: str | None
    reason: str
    key_version: str = ""

    @property
    def ok(self) -> bool:
        """True when the keys are the ones pinned or verified."""
        return self.state in ("pinned", "verified")


@dataclass(frozen=True)
class _Entry:
    state: str  # "pinned" or "verified"
    fingerprint: str
    signing_fingerprint: str
    key_version: str

    def to_json(self) -> dict[str, str]:
        return {
            "state": self.state,
            "fingerprint": self.fingerprint,
            "signing_fingerprint": self.signing_fingerprint,
            "key_version": self.key_version,
        }


class TrustStore:
    """What one user has seen and verified of other users' keys: user id -> pinned fingerprints and state.

    `check` looks, `pin` records first contact, `verify` records a comparison code read out of band,
    `accept_change` re-pins keys that changed. `save` / `load` keep it in a small JSON file (public
    fingerprints only). Pass it as `trust=` to `kit.Keyring`, `kit.read_key_change`, `kit.read_message`.
    """

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    # ------------------------------------------------------------------ looking

    def check(self, keys: PublicKeys) -> Trust:
        """What the store says about `keys` (changes nothing)."""
        keys = _public(keys, "keys")
        seen, seen_signing = fingerprint(keys.public_key), signing_fingerprint(keys)
        entry = self._entries.get(keys.user_id)
        who = f"user {keys.user_id}"
        if entry is None:
            return Trust("new", keys.user_id, seen, None, f"{who}: first contact, nothing pinned yet", keys.version)
        if entry.fingerprint != seen:
            reason = (
                f"the identity key of {who} changed since it was {entry.state} "
                f"(pinned fingerprint {entry.fingerprint}, now {seen} at key version {keys.version})"
            )
            return Trust("changed", keys.user_id, seen, entry.fingerprint, reason, keys.version)
        if entry.signing_fingerprint != seen_signing:
            reason = (
                f"the signing key of {who} changed since it was {entry.state}, with the same identity key "
                f"{seen} (pinned signing fingerprint {entry.signing_fingerprint}, now {seen_signing} at key version {keys.version})"
            )
            return Trust("changed", keys.user_id, seen, entry.fingerprint, reason, keys.version)
        how = "verified with a comparison code" if entry.state == "verified" else "pinned at first contact"
        return Trust(entry.state, keys.user_id, seen, entry.fingerprint, f"{who}: the keys {how}", keys.version)

    def __contains__(self, user_id: object) -> bool:
        return user_id in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def users(self) -> list[str]:
        """The user ids the store holds keys for."""
        return sorted(self._entries, key=int)

    # ------------------------------------------------------------------ deciding

    def pin(self, keys: PublicKeys) -> Trust:
        """First contact (trust on first use): "new" becomes "pinned"; the same keys again change nothing.

        Keys that differ from what is pinned raise `TrustError`: decide with `accept_change` or `verify`.
        """
        seen = self.check(keys)
        if seen.state == "changed":
            raise self._changed_error(seen, what="pin")
        if seen.state == "new":
            self._entries[seen.user_id] = self._entry("pinned", keys)
            return self.check(keys)
        return seen

    def verify(self, keys: PublicKeys, *, code: str, mine: PublicKeys | Identity) -> Trust:
        """Record that the comparison code your contact read out matches yours: the keys become "verified".

        `mine` is your own public keys (or identity), `keys` theirs as your client fetched them. A code
        that differs raises `TrustError` and changes nothing. A matching code also settles a change.
        """
        keys = _public(keys, "keys")
        mine = _public(mine, "mine")
        heard = _digits(code)
        expected = comparison_code(mine, keys)
        if not hmac.compare_digest(heard, expected.replace(" ", "")):
            raise TrustError(
                f"the comparison code for user {keys.user_id} does not match yours ({expected}): the keys you "
                f"and they see differ (a swapped key, or a misread digit); nothing was changed. Read it again; "
                f"if it still differs, do not trust these keys (fingerprint {fingerprint(keys.public_key)})",
                user_id=keys.user_id,
                fingerprint=fingerprint(keys.public_key),
                pinned_fingerprint=self._pinned(keys.user_id),
            )
        self._entries[keys.user_id] = self._entry("verified", keys)
        return self.check(keys)

    def accept_change(self, keys: PublicKeys) -> Trust:
        """You decided changed keys are fine (say, after comparing codes): pin these instead ("pinned")."""
        keys = _public(keys, "keys")
        self._entries[keys.user_id] = self._entry("pinned", keys)
        return self.check(keys)

    def forget(self, user_id: str) -> None:
        """Drop what the store holds for `user_id` (the next keys seen are "new" again)."""
        self._entries.pop(user_id, None)

    def require(self, keys: PublicKeys, *, what: str = "keys") -> Trust:
        """The check a reader makes before accepting what `keys` signed: "new" keys are pinned (trust on
        first use), pinned or verified ones pass, changed ones raise `TrustError` naming `what`."""
        seen = self.check(keys)
        if seen.state == "changed":
            raise self._changed_error(seen, what=what)
        if seen.state == "new":
            return self.pin(keys)
        return seen

    # ------------------------------------------------------------------ the file

    def to_json(self) -> dict[str, Any]:
        """The store as the JSON object `save` writes (public fingerprints only, with a checksum)."""
        users = {uid: self._entries[uid].to_json() for uid in self.users()}
        return {"kind": _FILE_KIND, "format": _FILE_FORMAT, "users": users, "checksum": _checksum(users)}

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the store to `path` as JSON (replaced whole, so a crash never leaves half a file)."""
        target = Path(path)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, target)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, missing_ok: bool = False) -> TrustStore:
        """Read a store written by `save`; a damaged or edited file raises `TrustError` (nothing is trusted).

        `missing_ok=True` gives an empty store when the file does not exist yet.
        """
        source = Path(path)
        try:
            text = source.read_text(encoding="utf-8")
        except FileNotFoundError:
            if missing_ok:
                return cls()
            raise TrustError(
                f"no trust store file at {source}: pass missing_ok=True to start an empty one"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise TrustError(f"trust store file {source} cannot be read ({exc.__class__.__name__}): nothing was loaded") from None
        try:
            data = json.loads(text)
        except ValueError:
            raise _damaged(source, "it is not JSON") from None
        return cls.from_json(data, source=str(source))

    @classmethod
    def from_json(cls, data: Any, *, source: str = "the trust store") -> TrustStore:
        """Read the object `to_json` made; anything else raises `TrustError`."""
        if not isinstance(data, dict) or data.get("kind") != _FILE_KIND:
            raise _damaged(source, f"it is not an {_FILE_KIND} (no \"kind\": \"{_FILE_KIND}\")")
        if data.get("format") != _FILE_FORMAT:
            raise _damaged(source, f"format {data.get('format')!r} is not {_FILE_FORMAT}")
        if set(data) != {"kind", "format", "users", "checksum"}:
            raise _damaged(source, f"unexpected members {sorted(set(data) - {'kind', 'format', 'users', 'checksum'})}")
        users = data["users"]
        if not isinstance(users, dict):
            raise _damaged(source, "\"users\" is not an object")
        if not isinstance(data["checksum"], str) or not hmac.compare_digest(data["checksum"], _checksum(users)):
            raise _damaged(source, "its checksum does not match its contents (edited by hand, or damaged)")
        store = cls()
        for uid, raw in users.items():
            store._entries[uid] = _read_entry(uid, raw, source)
        return store

    # ------------------------------------------------------------------ inside

    def _entry(self, state: str, keys: PublicKeys) -> _Entry:
        return _Entry(state, fingerprint(keys.public_key), signing_fingerprint(keys), keys.version)

    def _pinned(self, user_id: str) -> str | None:
        entry = self._entries.get(user_id)
        return None if entry is None else entry.fingerprint

    def _changed_error(self, seen: Trust, *, what: str) -> TrustError:
        return TrustError(
            f"{what} refused: {seen.reason}; nothing was adopted. Compare comparison codes with them out of "
            "band, then trust.verify(keys, code=..., mine=...) or, if you accept the change, trust.accept_change(keys)",
            user_id=seen.user_id,
            fingerprint=seen.fingerprint,
            pinned_fingerprint=seen.pinned_fingerprint,
        )

    def __repr__(self) -> str:
        states = {uid: self._entries[uid].state for uid in self.users()}
        return f"TrustStore({states})"


def _checksum(users: Any) -> str:
    return hashlib.sha256(json.dumps(users, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()[:32]


def _damaged(source: str, why: str) -> TrustError:
    return TrustError(
        f"trust store file {source} is damaged or was edited: {why}; nothing was loaded. Restore it from a copy, "
        "or start a new kit.TrustStore() and compare comparison codes again"
    )


def _read_entry(uid: Any, raw: Any, source: str) -> _Entry:
    where = f"user {uid!r}"
    try:
        check_user_id(uid, what=f"{where} in the trust store")
        if not isinstance(raw, dict) or set(raw) != {"state", "fingerprint", "signing_fingerprint", "key_version"}:
            raise _damaged(source, f"{where} does not hold exactly state, fingerprint, signing_fingerprint, key_version")
        if raw["state"] not in ("pinned", "verified"):
            raise _damaged(source, f"{where} has state {raw['state']!r}, not \"pinned\" or \"verified\"")
        for name in ("fingerprint", "signing_fingerprint"):
            if not isinstance(raw[name], str) or not _FINGERPRINT.fullmatch(raw[name]):
                raise _damaged(source, f"{where} {name} is not 43 base64url characters")
        check_version(raw["key_version"], what=f"{where} key_version in the trust store")
    except TrustError:
        raise
    except KitError as exc:
        raise _damaged(source, str(exc)) from None
    return _Entry(raw["state"], raw["fingerprint"], raw["signing_fingerprint"], raw["key_version"])
