"""You in a workshop room: `Room` (members, find by name, the connection check, trust, send and read), `Member`, `RoomCheck` (notebook 07)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from kit.client import Client
from kit.errors import APIError, KitError, NotFound, Unauthorized
from kit.ids import ConversationId, version_key
from kit.keyring import Adoption, Keyring
from kit.keys import Identity, PublicKeys, fingerprint
from kit.message import Message, prepare_message, read_message
from kit.protocol import KeyInit, prepare_key_init
from kit.room.errors import room_reset, server_unreachable
from kit.room.state import STATE_FORMAT, STATE_KIND, write_private
from kit.trust import Trust, TrustStore, comparison_code

__all__ = ["OFFLINE", "Member", "Room", "RoomCheck"]

#: Where an offline room's server is, as a line shows it.
OFFLINE = "the in-process sandbox"


# ----------------------------------------------------------------------------- what the room says


@dataclass(frozen=True)
class Member:
    """One learner in the room: user id, name, fingerprint of the newest keys (None before any), key versions."""

    id: str
    name: str
    fingerprint: str | None
    key_versions: tuple[str, ...]

    @classmethod
    def from_api(cls, record: dict[str, Any]) -> Member:
        return cls(str(record["id"]), str(record["name"]), record.get("fingerprint"), tuple(record.get("key_versions", ())))


@dataclass(frozen=True)
class RoomCheck:
    """The connection check: `ok`, and the one line a notebook shows (✓ … or ✗ … saying what to do)."""

    ok: bool
    message: str

    def __repr__(self) -> str:
        return self.message

    def __bool__(self) -> bool:
        return self.ok


# ----------------------------------------------------------------------------- the room


class Room:
    """You in a workshop room: `user_id`, `name`, `identity`, `client` (a kit.Client acting as you),
    `trust` (a kit.TrustStore saved with the room) and `keyring` (a kit.Keyring that consults it).

    Make one with `kit.join`. `state_path` is the saved state file (None offline: nothing is saved).
    """

    def __init__(
        self,
        *,
        url: str | None,
        name: str,
        identity: Identity,
        client: Client,
        trust: TrustStore | None = None,
        state_path: Path | None = None,
        sealed: dict[str, str] | None = None,
    ) -> None:
        self.url = url
        self.name = name
        self.identity = identity
        self.client = client
        self.trust = trust if trust is not None else TrustStore()
        self.keyring = Keyring(trust=self.trust)
        self.state_path = state_path
        self._sealed = dict(sealed or {})  # the sealed identity and token, written again as they are
        self._seen: set[str] = set()  # key-change events already read (by their base64 text's digest)
        self._names: dict[str, str] = {identity.user_id: name}

    @property
    def user_id(self) -> str:
        """Your user id (assigned by the server when you first joined)."""
        return self.identity.user_id

    @property
    def where(self) -> str:
        """The server, as a line shows it: its address, or the in-process sandbox."""
        return self.url or OFFLINE

    def __repr__(self) -> str:
        saved = f", saved={self.state_path.name!r}" if self.state_path is not None else ", saved=None"
        return f"Room(name={self.name!r}, user_id={self.user_id!r}, server={self.where!r}{saved})"

    # ------------------------------------------------------------------ who is in

    def members(self) -> list[Member]:
        """Everyone in the room (`GET /sandbox/room/members`), in the order they joined."""
        data = self.client.request("GET", "/sandbox/room/members").get("data", [])
        out = [Member.from_api(r) for r in data]
        self._names.update({m.id: m.name for m in out})
        return out

    def member(self, name: str) -> Member:
        """The member called `name` (case and surrounding spaces ignored); a kit.NotFound saying what to do."""
        try:
            data = self.client.request("GET", "/sandbox/room/members", params={"name": name}).get("data", [])
        except NotFound:
            data = []
        if not data:
            raise APIError.of(
                404,
                f"nobody called {name!r} is in the room yet: check the spelling with your neighbour, or wait until "
                "they have run kit.join, then run this cell again",
                resource_type="user",
            )
        member = Member.from_api(data[0])
        self._names[member.id] = member.name
        return member

    def find(self, name: str) -> PublicKeys:
        """`name`'s newest public keys, looked up by name, their binding signature verified.

        The binding proves the two keys belong together, not whose they are: compare
        `room.comparison_code(keys)` with them aloud, then `room.verify(keys, code=...)`.
        """
        member = self.member(name)
        try:
            keys = self.client.latest_public_keys(member.id)
        except NotFound:
            raise APIError.of(
                404,
                f"{member.name!r} is in the room but has registered no keys yet: wait a moment, then run this cell again",
                resource_type="user",
                resource_id=member.id,
            ) from None
        return keys

    def name_of(self, user_id: str) -> str:
        """The room name of `user_id` (from the members seen so far; the id itself when unknown)."""
        if user_id not in self._names:
            try:
                self.members()
            except APIError:
                pass
        return self._names.get(user_id, user_id)

    # ------------------------------------------------------------------ the connection check

    def check(self) -> RoomCheck:
        """One line: the server answers, your token works, your keys are registered (✓), or what to do (✗)."""
        try:
            health = self.client.request("GET", "/sandbox/health")
        except httpx.TransportError as exc:
            return RoomCheck(False, "✗ " + str(server_unreachable(self.where, exc)))
        except APIError as exc:
            return RoomCheck(False, f"✗ {self.where} answers, but not as a kit sandbox ({exc.status} on /sandbox/health): check the port")
        try:
            keys = self.client.get_public_keys(self.user_id)
        except Unauthorized as exc:
            return RoomCheck(False, "✗ " + str(room_reset(exc, self.where, self.name, self.state_path)))
        except httpx.TransportError as exc:
            return RoomCheck(False, "✗ " + str(server_unreachable(self.where, exc)))
        mine = [k for k in keys if k.version == self.identity.version]
        if not mine or fingerprint(mine[0].public_key) != self.identity.fingerprint:
            return RoomCheck(
                False,
                f"✗ {self.where} answers and your token works, but your keys (version {self.identity.version}) are not "
                "registered: run room.register() (or kit.join again)",
            )
        people = health.get("users")
        count = f" ({people} in the sandbox)" if isinstance(people, int) else ""
        return RoomCheck(
            True,
            f"✓ {self.where} answers{count}; your token works (you are {self.name}); your keys are registered "
            f"(fingerprint {self.identity.fingerprint[:12]}…)",
        )

    def register(self) -> str:
        """Register your public keys (again): idempotent; returns the key version."""
        registered = {k.version for k in self.client.get_public_keys(self.user_id)}
        if self.identity.version in registered:
            return self.identity.version
        return self.client.register_keys(self.identity)

    # ------------------------------------------------------------------ trust

    def comparison_code(self, keys: PublicKeys) -> str:
        """The code to read aloud with the owner of `keys` (the same on both screens when nobody swapped a key)."""
        return comparison_code(self.identity, keys)

    def verify(self, keys: PublicKeys, *, code: str) -> Trust:
        """Record that the code your neighbour read out matches yours (`TrustStore.verify`), and save it.

        A code that differs raises kit.TrustError and changes nothing: then do not trust these keys.
        """
        result = self.trust.verify(keys, code=code, mine=self.identity)
        self.save()
        return result

    # ------------------------------------------------------------------ conversations

    def conversation_with(self, keys: PublicKeys | str) -> ConversationId:
        """The 1:1 conversation id between you and the owner of `keys` (or a user id)."""
        other = keys.user_id if isinstance(keys, PublicKeys) else keys
        return ConversationId.pair(self.user_id, other)

    def start(self, keys: PublicKeys, *, version: str | None = None) -> KeyInit:
        """Initialize the 1:1 conversation with the owner of `keys`: wrap a fresh conversation key to both of
        you and send it; the key is adopted in `room.keyring` when `catch_up` reads it back."""
        init = prepare_key_init(self.identity, [keys], version=version)
        self.client.add_conversation_keys(init)
        return init

    def _signing_keys(self, cid: ConversationId) -> list[PublicKeys]:
        if cid.is_group:
            raise KitError(
                f"the room reads 1:1 conversations; for group {cid.canonical} read its key changes with a kit.Keyring "
                "and the members' public keys"
            )
        out: list[PublicKeys] = []
        for uid in cid.members:
            out += self.client.get_public_keys(uid)
        return out

    def catch_up(self, conversation: ConversationId | str) -> list[Adoption]:
        """Read every key-change event of a conversation not read yet into `room.keyring` (trust checked);
        what each did. After a restart this brings back every key, so old messages read again."""
        cid = conversation if isinstance(conversation, ConversationId) else ConversationId.parse(conversation, caller=self.user_id)
        events: list[str] = []
        try:
            for page in self.client.iter_events(cid.path):
                events += [e for e in page.key_changes if e not in events]
        except NotFound:  # not initialized yet: nothing to read, your neighbour may still start it
            return []
        fresh = [e for e in events if hashlib.sha256(e.encode()).hexdigest() not in self._seen]
        if not fresh:
            return []
        signing = self._signing_keys(cid)
        pinned = len(self.trust)
        out = []
        for event in fresh:
            out.append(self.keyring.read(event, recipient=self.identity, signing_keys=signing))
            self._seen.add(hashlib.sha256(event.encode()).hexdigest())
        if len(self.trust) != pinned:  # first contact pinned someone: keep it with the room
            self.save()
        return out

    def send(self, conversation: ConversationId | str, text: str) -> str:
        """Seal `text` with the conversation's newest adopted key, sign it and send it; its message id."""
        cid = conversation if isinstance(conversation, ConversationId) else ConversationId.parse(conversation, caller=self.user_id)
        latest = self.keyring.latest(cid.canonical)
        if latest is None:
            self.catch_up(cid)
            latest = self.keyring.latest(cid.canonical)
        if latest is None:
            raise KitError(
                f"conversation {cid.canonical} has no key yet: one of you starts it (room.start(their_keys)), "
                "then run this again"
            )
        message = prepare_message(
            self.identity, cid.canonical, text,
            conversation_key=latest.conversation_key, conversation_key_version=latest.conversation_key_version,
        )  # fmt: skip
        self.client.send_message(message)
        return message.message_id

    def messages(self, conversation: ConversationId | str) -> list[Message]:
        """Every message of a conversation, oldest first: each signature checked, then decrypted with the
        key of its version from `room.keyring` (so a rotation keeps older messages readable)."""
        cid = conversation if isinstance(conversation, ConversationId) else ConversationId.parse(conversation, caller=self.user_id)
        self.catch_up(cid)
        keys = self.keyring.keys(cid.canonical)
        signing = self._signing_keys(cid)
        events: list[str] = []
        try:
            for page in self.client.iter_events(cid.path):
                events += page.messages
        except NotFound:  # not initialized yet: no messages
            return []
        read = [read_message(e, conversation_key=keys, signing_keys=signing, trust=self.trust) for e in events]
        return sorted(read, key=lambda m: version_key(m.sequence_id or "0"))

    # ------------------------------------------------------------------ the state file

    def save(self) -> Path | None:
        """Write the state file again (the sealed identity and token as they were, the trust store now);
        None offline, where nothing is saved."""
        if self.state_path is None or self.url is None:
            return None
        state = {
            "kind": STATE_KIND,
            "format": STATE_FORMAT,
            "server": self.url,
            "name": self.name,
            "user_id": self.user_id,
            "key_version": self.identity.version,
            "fingerprint": self.identity.fingerprint,
            "identity_sealed": self._sealed["identity_sealed"],
            "token_sealed": self._sealed["token_sealed"],
            "trust": self.trust.to_json(),
        }
        write_private(self.state_path, json.dumps(state, indent=2) + "\n")
        return self.state_path

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()

    def __enter__(self) -> Room:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
