"""The workshop room, from a learner's side: join by name, resume after a restart, find your neighbour.

    >>> import kit
    >>> room = kit.join(None, name="ada", quiet=True)        # offline: an in-process room, nothing saved
    >>> room.name, room.check().ok
    ('ada', True)

`kit.join(url, name=...)` creates the account on first use (`POST /sandbox/join`: the server assigns the
user id), makes fresh keys and registers them, and saves what it needs to resume in a small state file
in `state_dir` (one per server and name, `.xchat-room-<name>-<host>-<port>.json`, owner-only). The file
holds the access token and the identity only sealed under your passphrase (`kit.vault`, Argon2id), and
the trust store's public fingerprints. The same call after a kernel restart opens that file and resumes:
same user id, same keys, and old messages still readable (their key-change events stay on the server and
were wrapped to the same identity key; `Room.catch_up` reads them into `room.keyring` again).

Errors say what to do, in one line::

    RoomError                 base (a kit.KitError)
    ├── ServerUnreachable     nothing answers at the address (or it is not a kit sandbox)
    ├── NameTaken             409: someone holds the name (`.suggestion` is a free one); also a kit.Conflict
    ├── RoomReset             401: the operator reset the room or your name; also a kit.Unauthorized
    └── RoomStateError        the saved state file is damaged, or is for another server or name
        └── WrongPassphrase   the passphrase does not open the saved state; also a kit.DecryptionError

The room is the kit's teaching design for a workshop (the sandbox's `/sandbox/...` endpoints); X has no
such endpoint.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from kit import vault
from kit.client import Client, SandboxUser, connect
from kit.errors import APIError, Conflict, DecryptionError, KitError, NotFound, Unauthorized, WireFormatError
from kit.ids import ConversationId, version_key
from kit.keyring import Adoption, Keyring
from kit.keys import Identity, PublicKeys, fingerprint
from kit.message import Message, prepare_message, read_message
from kit.protocol import KeyInit, prepare_key_init
from kit.trust import Trust, TrustStore, comparison_code

__all__ = [
    "STATE_KIND",
    "Member",
    "NameTaken",
    "Room",
    "RoomCheck",
    "RoomError",
    "RoomReset",
    "RoomStateError",
    "ServerUnreachable",
    "WrongPassphrase",
    "ask_passphrase",
    "join",
    "state_file",
]

STATE_KIND = "xchat-kit room state"
_STATE_FORMAT = 1
_OFFLINE = "the in-process sandbox"
#: Seconds to wait for a connection: a wrong address should fail in a few seconds, not thirty.
CONNECT_TIMEOUT_S = 5.0


# ----------------------------------------------------------------------------- errors


class RoomError(KitError):
    """Base of the room's errors: each says in one line what happened and what to do."""


class ServerUnreachable(RoomError):
    """Nothing answers at the room's address, or what answers is not a kit sandbox."""


class NameTaken(RoomError, Conflict):
    """409: the name belongs to another account in this room; `.suggestion` is a free one."""

    def __init__(self, problem: Any, *, suggestion: str | None, response: Any = None) -> None:
        super().__init__(problem, response=response)
        self.suggestion = suggestion

    def __str__(self) -> str:
        return self.problem.detail


class RoomReset(RoomError, Unauthorized):
    """401: the server no longer accepts this account's token (the operator reset the room or the name)."""

    def __str__(self) -> str:
        return self.problem.detail


class RoomStateError(RoomError):
    """The saved room state cannot be used: damaged, edited, or for another server or name."""


class WrongPassphrase(RoomStateError, DecryptionError):
    """The passphrase does not open the saved room state."""


# ----------------------------------------------------------------------------- names and files


def _name_key(name: str) -> str:
    # How the room compares names (the server does the same): NFKC, case-folded, spaces stripped.
    return unicodedata.normalize("NFKC", name.strip()).casefold()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._]+", "_", text).strip("_") or "_"


def _base_url(url: str) -> str:
    """The room's address as the kit uses it: `http://host:port`, without a trailing slash."""
    if not isinstance(url, str) or not url.strip():
        raise RoomError(f"the room's address is text such as 'http://192.168.1.20:8000', got {url!r}")
    text = url.strip().rstrip("/")
    if "://" not in text:
        text = "http://" + text
    try:
        parsed = httpx.URL(text)
    except (httpx.InvalidURL, ValueError):
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise RoomError(f"{url!r} is not an address: write it as it is on the board, e.g. 'http://192.168.1.20:8000'")
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}{parsed.path.rstrip('/')}"


def state_file(url: str, name: str, state_dir: str | os.PathLike[str] = ".") -> Path:
    """Where `kit.join(url, name=name, state_dir=...)` keeps its state: one file per server and name."""
    base = httpx.URL(_base_url(url))
    key = _name_key(name)
    slug = _slug(key)
    if slug != key:  # "a b" and "a_b" are two names: a short hash keeps their files apart
        slug += "-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:6]
    host = _slug(base.host.lower()) + (f"-{base.port}" if base.port else "")
    return Path(state_dir) / f".xchat-room-{slug}-{host}.json"


def ask_passphrase(prompt: str) -> str:
    """Ask for a passphrase without echoing it (`getpass`); a seam tests replace."""
    import getpass

    return getpass.getpass(prompt)


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


def _unreachable(where: str, exc: Exception) -> ServerUnreachable:
    why = type(exc).__name__
    return ServerUnreachable(
        f"cannot reach the room's server at {where} ({why}): check the address on the board (http://, the numbers, "
        "the port), that you are on the same Wi-Fi as the host, that the network does not isolate its guests "
        "(client isolation on guest networks: ask the host), and that the host's firewall lets the port in"
    )


def _reset_error(err: APIError, room: str, name: str, state: Path | None) -> RoomReset:
    start_over = f"kit.join({room!r}, name={name!r}, fresh=True)"
    where = f" (or delete {state.name})" if state is not None else ""
    detail = (
        f"the room at {room} no longer accepts the account of {name!r} (401): the operator reset the room, freed your name "
        "or revoked your access. "
        f"Start over with {start_over}{where}: a new account and new keys (old messages stay unreadable)"
    )
    problem = type(err.problem)(err.problem.type, err.problem.title, detail, 401, dict(err.problem.extra))
    out = RoomReset(problem, response=err.response)
    out.status = 401
    return out


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
        return self.url or _OFFLINE

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
            return RoomCheck(False, "✗ " + str(_unreachable(self.where, exc)))
        except APIError as exc:
            return RoomCheck(False, f"✗ {self.where} answers, but not as a kit sandbox ({exc.status} on /sandbox/health): check the port")
        try:
            keys = self.client.get_public_keys(self.user_id)
        except Unauthorized as exc:
            return RoomCheck(False, "✗ " + str(_reset_error(exc, self.where, self.name, self.state_path)))
        except httpx.TransportError as exc:
            return RoomCheck(False, "✗ " + str(_unreachable(self.where, exc)))
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
            "format": _STATE_FORMAT,
            "server": self.url,
            "name": self.name,
            "user_id": self.user_id,
            "key_version": self.identity.version,
            "fingerprint": self.identity.fingerprint,
            "identity_sealed": self._sealed["identity_sealed"],
            "token_sealed": self._sealed["token_sealed"],
            "trust": self.trust.to_json(),
        }
        _write_private(self.state_path, json.dumps(state, indent=2) + "\n")
        return self.state_path

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()

    def __enter__(self) -> Room:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _write_private(path: Path, text: str) -> None:
    # Owner-only from the first byte, replaced whole (a crash never leaves half a file).
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- joining


def _post_join(root: Client, name: str, *, where: str, state: Path | None, fresh: bool = False) -> SandboxUser:
    try:
        data = root.request("POST", "/sandbox/join", json={"name": name})["data"]
    except Conflict as err:
        suggestion = err.problem.extra.get("suggestion")
        other = f", e.g. name={suggestion!r}" if suggestion else ""
        if state is None:
            mine = ""
        elif fresh:
            mine = "; if it is your old account's, ask the operator to free the name (Free name), then run this again"
        else:
            mine = (
                f"; if the name is yours from before, your state file {state.name} is not in this folder: "
                "restore it, or ask the operator to free the name"
            )
        detail = f"the name {name!r} is taken in the room at {where}: choose another{other}{mine}"
        problem = type(err.problem)(err.problem.type, err.problem.title, detail, 409, dict(err.problem.extra))
        taken = NameTaken(problem, suggestion=suggestion, response=err.response)
        taken.status = 409
        raise taken from None
    except NotFound:
        raise ServerUnreachable(
            f"{where} answers but has no room (404 on POST /sandbox/join): is it a kit sandbox new enough for "
            "workshops (python -m kit sandbox ...)? check the port"
        ) from None
    return SandboxUser(str(data["id"]), str(data["name"]), str(data["access_token"]))


def _health(root: Client, where: str) -> dict[str, Any]:
    try:
        return root.request("GET", "/sandbox/health")
    except httpx.TransportError as exc:
        raise _unreachable(where, exc) from None
    except APIError as exc:
        raise ServerUnreachable(
            f"{where} answers, but not as a kit sandbox ({exc.status} on /sandbox/health): check the address and the port"
        ) from None


def _seal(secret: bytes, passphrase: str) -> str:
    return base64.b64encode(vault.seal(secret, passphrase)).decode("ascii")


def _read_state(path: Path, base: str, name: str) -> dict[str, Any]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise RoomStateError(
            f"the room state file {path} cannot be read ({type(exc).__name__}): restore it, or start over with "
            f"kit.join(..., name={name!r}, fresh=True)"
        ) from None
    needed = {"kind", "format", "server", "name", "user_id", "key_version", "identity_sealed", "token_sealed", "trust"}
    if not isinstance(state, dict) or state.get("kind") != STATE_KIND or state.get("format") != _STATE_FORMAT or not needed <= set(state):
        raise RoomStateError(
            f"{path} is not a room state file of this kit (format {_STATE_FORMAT}): restore it, or start over with "
            f"kit.join(..., name={name!r}, fresh=True)"
        )
    if state["server"] != base or _name_key(str(state["name"])) != _name_key(name):
        raise RoomStateError(
            f"{path} is the state of {state['name']!r} at {state['server']}, not of {name!r} at {base}: "
            "pass the address and name you joined with, or another state_dir"
        )
    return state


def _open_state(state: dict[str, Any], path: Path, passphrase: str, name: str) -> tuple[Identity, str, TrustStore]:
    try:
        identity = Identity.import_protected(base64.b64decode(state["identity_sealed"]), passphrase)
        token = vault.open_sealed(base64.b64decode(state["token_sealed"]), passphrase).decode("utf-8")
    except DecryptionError:
        raise WrongPassphrase(
            f"the passphrase does not open {path.name}: type the one you chose when you first joined as {name!r} "
            f"(or start over with kit.join(..., name={name!r}, fresh=True): a new account)"
        ) from None
    except (WireFormatError, ValueError, TypeError):
        raise RoomStateError(f"{path.name} is damaged (its sealed parts do not decode): restore it, or start over with fresh=True") from None
    if identity.user_id != state["user_id"] or identity.version != state["key_version"]:
        raise RoomStateError(f"{path.name} was edited: its identity is not user {state['user_id']}: restore it, or start over with fresh=True")
    try:
        trust = TrustStore.from_json(state["trust"], source=path.name)
    except KitError as exc:
        raise RoomStateError(str(exc)) from None
    return identity, token, trust


def _passphrase(given: str | None, prompt: str) -> str:
    pw = given if given is not None else ask_passphrase(prompt)
    if not isinstance(pw, str) or not pw:
        raise RoomError("the passphrase must be non-empty text: it protects the keys saved next to the notebook")
    return pw


def join(
    url: str | None,
    *,
    name: str,
    state_dir: str | os.PathLike[str] | None = ".",
    passphrase: str | None = None,
    fresh: bool = False,
    sandbox: Any = None,
    demo_seed: str | None = None,
    quiet: bool = False,
) -> Room:
    """Join the workshop room at `url` as `name`, or resume where you left off.

    First time: the server makes your account (it assigns the user id; names are unique, ignoring case),
    fresh keys are made and registered, and a state file is saved in `state_dir` with the token and the
    identity sealed under `passphrase` (asked with getpass when not given). Again later (a new kernel):
    the same call opens that file and resumes as the same user with the same keys. `fresh=True` starts
    over with a new account (the old state file is replaced). `state_dir=None` saves nothing (no
    passphrase, no resuming: for scripts and load tests).

    `url=None`: offline, an in-process room that saves nothing (`sandbox=` joins another learner's
    in-process room: `room.client.sandbox`); `demo_seed` (offline only, DEMO ONLY) makes the keys from
    a public seed so a lesson shows the same fingerprints every run.
    """
    if not isinstance(name, str) or not name.strip():
        raise RoomError(f"name must be 1 to 32 printable characters, e.g. name='ada', got {name!r}")
    if url is None:
        return _join_offline(name, sandbox=sandbox, demo_seed=demo_seed, quiet=quiet)
    if demo_seed is not None:
        raise RoomError("demo_seed is for offline lessons only: in a room, keys made from a public seed are anybody's")
    base = _base_url(url)
    root = connect(base_url=base, quiet=True)
    root.http.timeout = httpx.Timeout(30.0, connect=CONNECT_TIMEOUT_S)
    try:
        _health(root, base)
        if state_dir is None:
            room = _create(root, base, name, None, None)
            verb = "joined"
        elif (path := state_file(base, name, state_dir)).exists() and not fresh:
            room = _resume(root, base, name, path, passphrase)
            verb = "resumed"
        else:
            room = _create(root, base, name, path, passphrase, fresh=fresh)
            verb = "joined"
    except BaseException:
        root.close()
        raise
    root.close()  # the room's client has its own connection pool
    if not quiet:
        saved = (
            f"your state is in {room.state_path.name} (passphrase-protected)" if room.state_path else "nothing saved (state_dir=None)"
        )
        print(f"kit: {verb} the room at {base} as {room.name}; {saved}")
    return room


def _acting_as(root: Client, account: SandboxUser) -> Client:
    # Its own connection pool: `join` closes `root` (as_user would share, and so close, its transport).
    client = connect(base_url=str(root.http.base_url).rstrip("/"), token=account.access_token, user_id=account.id, quiet=True)
    client.http.timeout = root.http.timeout
    return client


def _create(root: Client, base: str, name: str, path: Path | None, passphrase: str | None, *, fresh: bool = False) -> Room:
    if path is None:  # state_dir=None: nothing saved, nothing sealed
        account = _post_join(root, name, where=base, state=None)
        room = Room(url=base, name=account.username, identity=Identity.generate(account.id), client=_acting_as(root, account))
        room.register()
        return room
    pw = _passphrase(passphrase, f"choose a passphrase for your room state ({path.name}): ")
    account = _post_join(root, name, where=base, state=path, fresh=fresh)
    identity = Identity.generate(account.id)
    sealed = {
        "identity_sealed": base64.b64encode(identity.export_protected(pw)).decode("ascii"),
        "token_sealed": _seal(account.access_token.encode("utf-8"), pw),
    }
    room = Room(url=base, name=account.username, identity=identity, client=_acting_as(root, account), state_path=path, sealed=sealed)
    room.save()  # before registering: a failure below still leaves a state to resume from
    room.register()
    return room


def _resume(root: Client, base: str, name: str, path: Path, passphrase: str | None) -> Room:
    state = _read_state(path, base, name)
    pw = _passphrase(passphrase, f"passphrase for {path.name}: ")
    identity, token, trust = _open_state(state, path, pw, name)
    account = SandboxUser(identity.user_id, str(state["name"]), token)
    sealed = {"identity_sealed": state["identity_sealed"], "token_sealed": state["token_sealed"]}
    room = Room(url=base, name=account.username, identity=identity, client=_acting_as(root, account), trust=trust, state_path=path, sealed=sealed)
    try:
        room.register()  # checks the token too; registers the keys if an earlier join stopped before it
    except Unauthorized as err:
        room.close()
        raise _reset_error(err, base, name, path) from None
    except httpx.TransportError as exc:
        room.close()
        raise _unreachable(base, exc) from None
    return room


def _join_offline(name: str, *, sandbox: Any, demo_seed: str | None, quiet: bool) -> Room:
    root = connect(sandbox=sandbox, quiet=True)
    account = _post_join(root, name, where=_OFFLINE, state=None)
    if demo_seed is not None:
        identity = Identity.from_seed(demo_seed, account.id, version="1")
    else:
        identity = Identity.generate(account.id)
    room = Room(url=None, name=account.username, identity=identity, client=root.as_user(account))
    room.register()
    if not quiet:
        print(f"kit: offline: {room.name} joined an in-process room (nothing is saved; set the address to join a workshop)")
    return room
