"""The conversation keys a recipient has adopted, per conversation and key version.

A recipient reads key-change events with `kit.read_key_change`; the keyring decides what each
verified change does. A change is *adopted* (becomes the latest key of its conversation) only
when its conversation key version is numerically newer than the latest adopted one, so an
older key-change event served again cannot take the conversation back to an older key.

A change that is not adopted still teaches its key: it is remembered under its version, because
older messages were sealed with it (`read_message` needs it). What a version holds is never
replaced: a second, different key for a version already known is refused and the first kept.

A keyring made with `Keyring(trust=store)` (a `kit.TrustStore`) also refuses, with `TrustError`, a
change signed with keys that differ from its sender's pinned or verified keys: nothing is adopted.

    >>> import kit
    >>> ring = kit.Keyring()
    >>> ring.latest("1001:2002") is None
    True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kit.errors import KeyNotFoundError, TrustError, WireFormatError
from kit.ids import ConversationId, check_version, version_key
from kit.keys import Identity, PublicKeys
from kit.protocol import KeyChange, read_key_change
from kit.trust import TrustStore

__all__ = ["Adoption", "Keyring"]


@dataclass(frozen=True)
class Adoption:
    """What `Keyring.adopt` did with one verified key change.

    `adopted` is true when the change became the latest key of its conversation; `reason`
    says why in one line; `latest_version` is the conversation's latest key version after it.
    """

    change: KeyChange
    adopted: bool
    reason: str
    latest_version: str


def _conversation(conversation_id: object) -> str:
    # Key-change events carry the canonical id (min:max or g…); accept any full spelling here.
    return ConversationId.parse(conversation_id).canonical


class Keyring:
    """The conversation keys a recipient has adopted, by conversation id and key version.

    `latest(conversation_id)` never goes backwards; `keys(conversation_id)` is what
    `read_message(..., conversation_key=...)` takes. `trust` (a `kit.TrustStore`, optional) is
    consulted before any change is adopted.
    """

    def __init__(self, *, trust: TrustStore | None = None) -> None:
        # conversation id (canonical) -> key version (by value) -> the change that brought that key
        self._changes: dict[str, dict[int, KeyChange]] = {}
        self._latest: dict[str, int] = {}
        self.trust = trust

    def adopt(self, change: KeyChange) -> Adoption:
        """Remember a verified key change; make it the latest only if its version is newer.

        A version more than a day in the future (`kit.ids.MAX_VERSION_SKEW_MS`) is refused and
        not remembered: adopting it would make every honest rotation "not newer" until that day.
        """
        if not isinstance(change, KeyChange):
            raise WireFormatError(
                f"a keyring adopts a kit.KeyChange (from kit.read_key_change), got {type(change).__name__}"
            )
        cid = _conversation(change.conversation_id)
        if not change.verified:
            return self._keep_unverified(cid, change)
        self._check_trust(change)
        version = version_key(change.conversation_key_version, what="conversation_key_version of the key change")
        known = self._changes.get(cid, {})
        latest = self._latest.get(cid)
        latest_text = "" if latest is None else known[latest].conversation_key_version
        try:
            check_version(change.conversation_key_version, what="conversation_key_version of the key change")
        except WireFormatError as exc:
            return Adoption(change=change, adopted=False, reason=f"refused: {exc}", latest_version=latest_text)
        held = known.get(version)
        if held is not None and held.conversation_key != change.conversation_key:
            # A version names one key: a second key under it would change what old messages decrypt to.
            reason = f"version {version} already holds a different conversation key: kept the first"
            return Adoption(change=change, adopted=False, reason=reason, latest_version=latest_text)
        if held is None:
            self._changes.setdefault(cid, known)[version] = change
        if latest is None:
            self._latest[cid] = version
            reason = "first key change of the conversation"
            return Adoption(change=change, adopted=True, reason=reason, latest_version=str(version))
        if version > latest:
            self._latest[cid] = version
            return Adoption(change=change, adopted=True, reason=f"newer than {latest}", latest_version=str(version))
        return Adoption(change=change, adopted=False, reason=f"not newer than {latest}", latest_version=latest_text)

    def read(
        self, event_b64: str | bytes, *, recipient: Identity, signing_keys: Iterable[PublicKeys]
    ) -> Adoption:
        """Read a key-change event with `kit.read_key_change`, then `adopt` what it verified.

        Errors from reading (`KeyNotFoundError`, `DecryptionError`, `SignatureError`,
        `WireFormatError`, and `TrustError` with a trust store) propagate, and the keyring is left unchanged.
        """
        return self.adopt(read_key_change(event_b64, recipient=recipient, signing_keys=signing_keys, trust=self.trust))

    def _keep_unverified(self, cid: str, change: KeyChange) -> Adoption:
        # A departed signer's change (read with allow_departed=True): its key opens old messages,
        # but an unverified key must never become the one new messages are sealed with.
        version = version_key(change.conversation_key_version, what="conversation_key_version of the key change")
        known = self._changes.setdefault(cid, {})
        latest = self._latest.get(cid)
        latest_text = "" if latest is None else known[latest].conversation_key_version
        held = known.get(version)
        if held is not None and held.conversation_key != change.conversation_key:
            reason = f"version {version} already holds a different conversation key: kept the first"
        else:
            known.setdefault(version, change)
            reason = "unverified (signer departed): kept for reading its messages, never adopted as the latest"
        return Adoption(change=change, adopted=False, reason=reason, latest_version=latest_text)

    def _check_trust(self, change: KeyChange) -> None:
        # The trust check, kept apart: a change is adopted only if its signer's keys are the trusted ones.
        if self.trust is None:
            return
        if change.signer is None:
            raise TrustError(
                f"key change {change.message_id} does not say which keys signed it: read it with "
                "ring.read(...) or kit.read_key_change(...) so the trust store can check its sender",
                user_id=change.sender_id,
            )
        self.trust.require(change.signer, what=f"key change {change.message_id} from user {change.sender_id}")

    def latest(self, conversation_id: str) -> KeyChange | None:
        """The adopted key change with the newest version, or None before the first one."""
        cid = _conversation(conversation_id)
        version = self._latest.get(cid)
        return None if version is None else self._changes[cid][version]

    def key(self, conversation_id: str, version: str) -> bytes:
        """The conversation key for one key version; `KeyNotFoundError` if the keyring has none."""
        cid = _conversation(conversation_id)
        change = self._changes.get(cid, {}).get(version_key(version, what="conversation key version"))
        if change is None:
            raise KeyNotFoundError(
                f"no conversation key for conversation {cid} at version {version}; "
                f"known versions: {list(self._versions(cid))}"
            )
        return change.conversation_key

    def keys(self, conversation_id: str) -> dict[str, bytes]:
        """A new dict of key version -> conversation key, oldest first, for `read_message`.

        Empty for a conversation the keyring has no key for. Changing it leaves the keyring as is.
        """
        cid = _conversation(conversation_id)
        known = self._changes.get(cid, {})
        return {known[v].conversation_key_version: known[v].conversation_key for v in sorted(known)}

    def _versions(self, cid: str) -> tuple[str, ...]:
        known = self._changes.get(cid, {})
        return tuple(known[v].conversation_key_version for v in sorted(known))

    def __repr__(self) -> str:
        parts = [
            f"{cid!r}: latest {str(self._latest[cid])!r} of {len(self._changes[cid])} version(s)"
            for cid in sorted(self._latest)
        ]
        return f"Keyring({{{', '.join(parts)}}}, conversation_key=<hidden>)"
