"""`Client`: the X Chat key endpoints as methods, kit objects in and out.

Every method is one call of `request` (`kit.client.request.send`: retries, problems, redaction);
the results are small frozen dataclasses. Partial errors in a 200 are returned, not raised.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from kit.client.request import TokenAuth, redact, send
from kit.encoding import from_b64
from kit.errors import APIError, KitError, Problem
from kit.group import GroupCreate, MembersChange
from kit.ids import version_key
from kit.keys import Identity, PublicKeys
from kit.message import PreparedDelete, PreparedMessage
from kit.protocol import KeyInit
from kit.thrift import read_message_event
from kit.thrift_group import is_group_change

__all__ = ["Client", "EventsPage", "KeysResult", "PublicKeysResult", "SandboxUser"]


@dataclass(frozen=True)
class SandboxUser:
    """A sandbox account: its user id, username and access token (sandbox-only, never valid elsewhere)."""

    id: str
    username: str
    access_token: str = field(repr=False)


@dataclass(frozen=True)
class KeysResult:
    """The answer to an init or rotation: the conversation id to reuse and the event's sequence id."""

    conversation_id: str
    sequence_id: str


@dataclass(frozen=True)
class PublicKeysResult:
    """Public keys of several users, and a problem for each user the server could not answer for."""

    keys: dict[str, list[PublicKeys]]
    errors: list[Problem]


@dataclass(frozen=True)
class EventsPage:
    """One page of a conversation's events: messages in `messages`, key changes apart in `key_changes`,
    a group's creation and member adds in `group_changes` (all base64 `MessageEvent`s, newest first)."""

    messages: list[str]
    key_changes: list[str]
    next_token: str | None
    raw: dict[str, Any] = field(repr=False)
    group_changes: list[str] = field(default_factory=list)


def _is_group_change(encoded: str) -> bool:
    try:
        return is_group_change(read_message_event(from_b64(encoded, what="encoded_event")).detail)
    except KitError:
        return False  # not for the client to judge: the reader of `messages` reports what is wrong


class Client:
    """A client for the X Chat key endpoints, over one `httpx.Client`.

    Use `kit.connect()` for the usual set-ups. `user_id` is whose token this is (known for
    sandbox users; pass it in live mode). `max_retries` is how many times a 429 (rate limited)
    answer is retried, each after waiting until its `x-rate-limit-reset` time (exponential
    backoff when the answer does not say); 0, the default, raises `RateLimited` at once.
    """

    def __init__(self, http: httpx.Client, *, user_id: str | None = None, max_retries: int = 0) -> None:
        self.http = http
        self.user_id = user_id
        self.max_retries = max_retries

    def __repr__(self) -> str:
        return f"Client(base_url={str(self.http.base_url)!r}, user_id={self.user_id!r})"

    # ---------------------------------------------------------------- the one request method

    def request(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Send one request; return the JSON answer, or raise the `APIError` for its problem."""
        return send(self.http, method, path, json=json, params=params, max_retries=self.max_retries)

    # ---------------------------------------------------------------- sandbox-only

    @property
    def sandbox(self) -> Any:
        """The in-process `Sandbox` this client talks to (e.g. `api.sandbox.lie(...)` in a lesson);
        `KitError` for a sandbox server or the live API, whose insides no client can reach."""
        from kit.sandbox.transport import SandboxTransport

        transport = self.http._transport
        if not isinstance(transport, SandboxTransport):
            raise KitError(
                f"this client talks to {self.http.base_url} over HTTP, not to an in-process sandbox: "
                "only kit.connect() with nothing set gives a client whose .sandbox you can reach"
            )
        return transport.sandbox

    def create_sandbox_user(self, username: str, *, user_id: str | None = None) -> SandboxUser:
        """`POST /sandbox/users`: a sandbox account and its access token."""
        body: dict[str, Any] = {"username": username}
        if user_id is not None:
            body["id"] = user_id
        data = self.request("POST", "/sandbox/users", json=body)["data"]
        return SandboxUser(data["id"], data["username"], data["access_token"])

    def as_user(self, user: SandboxUser) -> Client:
        """A client on the same transport, acting as `user`."""
        http = httpx.Client(
            transport=self.http._transport,  # the seam is shared: same sandbox or same server
            base_url=self.http.base_url,
            auth=TokenAuth(user.access_token),
            timeout=self.http.timeout,
            event_hooks={k: list(v) for k, v in self.http.event_hooks.items()},  # logging/inspection hooks carry over
        )
        return Client(http, user_id=user.id, max_retries=self.max_retries)

    def sandbox_user(self, username: str, *, user_id: str | None = None) -> Client:
        """Create a sandbox account and return a client acting as it."""
        return self.as_user(self.create_sandbox_user(username, user_id=user_id))

    # ---------------------------------------------------------------- public keys

    def register_keys(self, identity: Identity, *, generate_version: bool = False) -> str:
        """`POST /2/users/{id}/public_keys`; returns the public key version the server recorded."""
        data = self.request(
            "POST", f"/2/users/{identity.user_id}/public_keys", json=identity.registration_body(generate_version=generate_version)
        )
        return str(data.get("data", {}).get("public_key_version", identity.version))

    def get_public_keys(self, user_id: str) -> list[PublicKeys]:
        """`GET /2/users/{id}/public_keys`: every registered version, newest first."""
        data = self.request("GET", f"/2/users/{user_id}/public_keys")
        keys = [PublicKeys.from_api(r, user_id=user_id) for r in data.get("data", [])]
        return sorted(keys, key=lambda k: version_key(k.version), reverse=True)

    def latest_public_keys(self, user_id: str) -> PublicKeys:
        """The newest registered public keys of `user_id` (by numeric version), binding checked."""
        keys = self.get_public_keys(user_id)
        if not keys:
            raise APIError.of(404, f"user {user_id} has registered no public keys yet", resource_type="user", resource_id=user_id)
        keys[0].verify_binding()
        return keys[0]

    def get_users_public_keys(self, user_ids: list[str]) -> PublicKeysResult:
        """`GET /2/users/public_keys?ids=...`: keys of several users; unknown users come back in `errors`."""
        data = self.request("GET", "/2/users/public_keys", params={"ids": ",".join(user_ids)})
        out: dict[str, list[PublicKeys]] = {}
        for record in data.get("data", []):
            uid = str(record.get("user_id", ""))
            out.setdefault(uid, []).append(PublicKeys.from_api(record, user_id=uid))
        errors = [redact(Problem.from_dict(p), self.http) for p in data.get("errors", [])]
        return PublicKeysResult(out, errors)

    # ---------------------------------------------------------------- conversations

    def add_conversation_keys(self, init: KeyInit, *, path_id: str | None = None) -> KeysResult:
        """`POST /2/chat/conversations/{id}/keys`: the Initialize (or Rotate) Conversation Keys call.

        `path_id` overrides the URL id (e.g. a bare recipient id); by default `init.path_id`.
        """
        data = self.request("POST", f"/2/chat/conversations/{path_id or init.path_id}/keys", json=init.body)["data"]
        return KeysResult(str(data.get("conversation_id", init.path_id)), str(data.get("sequence_id", "")))

    def initialize_group(self) -> str:
        """`POST /2/chat/conversations/group/initialize`: a fresh ``g…`` id for a new group."""
        return str(self.request("POST", "/2/chat/conversations/group/initialize")["data"]["conversation_id"])

    def create_group(
        self,
        create: GroupCreate | KeyInit,
        *,
        members: list[str] | None = None,
        admins: list[str] | None = None,
        name: str | None = None,
    ) -> KeysResult:
        """`POST /2/chat/conversations/group`: create a group with its first key.

        Pass a `kit.GroupCreate` (from `kit.prepare_group_create`: both signed actions, roster and
        title in its body). A bare `KeyInit` with `members` (and `admins`, `name`) sends the key
        change alone, which the sandbox still takes; X expects both signatures.
        """
        if isinstance(create, GroupCreate):
            if members is not None or admins is not None or name is not None:
                raise KitError("create_group(GroupCreate) takes the roster and title from the prepared create, not as arguments")
            body = create.body
        else:
            if members is None:
                raise KitError("create_group(KeyInit) needs members=[...]; or pass kit.prepare_group_create(...) instead")
            body = {**create.body, "conversation_id": create.conversation_id, "group_members": list(members)}
            if admins is not None:
                body["group_admins"] = list(admins)
            if name is not None:
                body["group_name"] = name
        data = self.request("POST", "/2/chat/conversations/group", json=body)["data"]
        return KeysResult(str(data["conversation_id"]), str(data.get("conversation_key_change_sequence_id", "")))

    def add_group_members(self, change: MembersChange) -> KeysResult:
        """`POST /2/chat/conversations/{id}/members`: add members with a new key for the whole new roster."""
        data = self.request("POST", f"/2/chat/conversations/{change.path_id}/members", json=change.body)["data"]
        return KeysResult(str(data.get("conversation_id", change.conversation_id)), str(data.get("sequence_id", "")))

    def get_events(
        self, conversation_id: str, *, max_results: int | None = None, pagination_token: str | None = None
    ) -> EventsPage:
        """`GET /2/chat/conversations/{id}/events`: one page (messages, and the key changes apart)."""
        params: dict[str, Any] = {}
        if max_results is not None:
            params["max_results"] = max_results
        if pagination_token is not None:
            params["pagination_token"] = pagination_token
        data = self.request("GET", f"/2/chat/conversations/{_path(conversation_id)}/events", params=params or None)
        meta = data.get("meta", {})
        events = [e["encoded_event"] for e in data.get("data", []) if "encoded_event" in e]
        groups = [e for e in events if _is_group_change(e)]
        return EventsPage(
            messages=[e for e in events if e not in groups] if groups else events,
            key_changes=list(meta.get("conversation_key_events", [])),
            next_token=meta.get("next_token"),
            raw=data,
            group_changes=groups,
        )

    def iter_events(self, conversation_id: str, *, max_results: int = 100) -> Iterator[EventsPage]:
        """Every page of a conversation's events, following `next_token`."""
        token = None
        while True:
            page = self.get_events(conversation_id, max_results=max_results, pagination_token=token)
            yield page
            if not page.next_token:
                return
            token = page.next_token

    def send_message(self, message: PreparedMessage) -> str:
        """`POST /2/chat/conversations/{id}/messages`; returns the stored `MessageEvent` (base64)."""
        data = self.request("POST", f"/2/chat/conversations/{message.path_id}/messages", json=message.body)["data"]
        return str(data["encoded_message_event"])

    def delete_messages(self, delete: PreparedDelete) -> bool:
        """`POST /2/chat/conversations/{id}/messages/delete` with a `kit.prepare_delete` action; True when deleted."""
        data = self.request("POST", f"/2/chat/conversations/{delete.path_id}/messages/delete", json=delete.body)["data"]
        return bool(data["deleted"])

    def get_conversations(self, *, max_results: int | None = None) -> list[dict[str, Any]]:
        """`GET /2/chat/conversations`: the caller's conversations (first page)."""
        params = {"max_results": max_results} if max_results is not None else None
        return list(self.request("GET", "/2/chat/conversations", params=params).get("data", []))

    def get_conversation(self, conversation_id: str) -> dict[str, Any]:
        """`GET /2/chat/conversations/{id}`."""
        return dict(self.request("GET", f"/2/chat/conversations/{_path(conversation_id)}")["data"])

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _path(conversation_id: str) -> str:
    # Colon pairs are for signatures; URLs take the hyphen form. Bare ids and g-ids pass through.
    return conversation_id.replace(":", "-") if ":" in conversation_id else conversation_id
