"""The sealed room state file: where it lives, how it is written, read and opened with the passphrase (notebook 07)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import unicodedata
from pathlib import Path
from typing import Any

import httpx

from kit import vault
from kit.errors import DecryptionError, KitError, WireFormatError
from kit.keys import Identity
from kit.room.errors import RoomError, RoomStateError, WrongPassphrase
from kit.trust import TrustStore

__all__ = [
    "STATE_FORMAT",
    "STATE_KIND",
    "ask_passphrase",
    "base_url",
    "name_key",
    "open_state",
    "passphrase_or_ask",
    "read_state",
    "seal",
    "state_file",
    "write_private",
]

STATE_KIND = "xchat-kit room state"
STATE_FORMAT = 1


def name_key(name: str) -> str:
    """How the room compares names (the server does the same): NFKC, case-folded, spaces stripped."""
    return unicodedata.normalize("NFKC", name.strip()).casefold()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._]+", "_", text).strip("_") or "_"


def base_url(url: str) -> str:
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
    base = httpx.URL(base_url(url))
    key = name_key(name)
    slug = _slug(key)
    if slug != key:  # "a b" and "a_b" are two names: a short hash keeps their files apart
        slug += "-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:6]
    host = _slug(base.host.lower()) + (f"-{base.port}" if base.port else "")
    return Path(state_dir) / f".xchat-room-{slug}-{host}.json"


def ask_passphrase(prompt: str) -> str:
    """Ask for a passphrase without echoing it (`getpass`); a seam tests replace."""
    import getpass

    return getpass.getpass(prompt)


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` owner-only from the first byte, replaced whole (a crash never leaves half a file)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def seal(secret: bytes, passphrase: str) -> str:
    """`secret` sealed under `passphrase` (`kit.vault`), as base64 text."""
    return base64.b64encode(vault.seal(secret, passphrase)).decode("ascii")


def read_state(path: Path, base: str, name: str) -> dict[str, Any]:
    """The state file at `path`, checked to be this kit's and for this server and name."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise RoomStateError(
            f"the room state file {path} cannot be read ({type(exc).__name__}): restore it, or start over with "
            f"kit.join(..., name={name!r}, fresh=True)"
        ) from None
    needed = {"kind", "format", "server", "name", "user_id", "key_version", "identity_sealed", "token_sealed", "trust"}
    if not isinstance(state, dict) or state.get("kind") != STATE_KIND or state.get("format") != STATE_FORMAT or not needed <= set(state):
        raise RoomStateError(
            f"{path} is not a room state file of this kit (format {STATE_FORMAT}): restore it, or start over with "
            f"kit.join(..., name={name!r}, fresh=True)"
        )
    if state["server"] != base or name_key(str(state["name"])) != name_key(name):
        raise RoomStateError(
            f"{path} is the state of {state['name']!r} at {state['server']}, not of {name!r} at {base}: "
            "pass the address and name you joined with, or another state_dir"
        )
    return state


def open_state(state: dict[str, Any], path: Path, passphrase: str, name: str) -> tuple[Identity, str, TrustStore]:
    """The identity, token and trust store of a read state, opened with `passphrase`."""
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


def passphrase_or_ask(given: str | None, prompt: str) -> str:
    """`given`, or a passphrase asked with `ask_passphrase`; never empty."""
    pw = given if given is not None else ask_passphrase(prompt)
    if not isinstance(pw, str) or not pw:
        raise RoomError("the passphrase must be non-empty text: it protects the keys saved next to the notebook")
    return pw
