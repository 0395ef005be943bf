"""The sandbox's rules: an offline X API for chat keys that validates like the real endpoint.

`Sandbox.handle(method, path, query, headers, body)` is the whole contract; the in-process
transport and the HTTP server are thin doors over it. Every failure is an `APIError`, turned
into an RFC 7807 problem; nothing a client sends can make it answer 500.

The operations live by resource (`users`, `public_keys`, `conversations`, `key_changes`,
`groups`, `events`, `messages`), each working on a `calls.Context` (the store and the clock);
this module holds `Sandbox`, its routing table and the checks every request passes first.

What it cannot do, and does not pretend to: verify an action signature. The signed payload
holds the plaintext conversation key, which only participants have.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from kit import __version__
from kit.errors import APIError, KitError
from kit.ids import check_user_id
from kit.keys import PublicKeys
from kit.sandbox.calls import MAX_BODY_BYTES, Call, Context, RateLimit, read_headers, read_json_body
from kit.sandbox.conversations import Conversations
from kit.sandbox.dashboard import STATIC_FILES, Dashboard
from kit.sandbox.events import EventLog
from kit.sandbox.groups import Groups
from kit.sandbox.key_changes import KeyChanges
from kit.sandbox.limits import CONVERSATION_QUOTA_BYTES, body_limit, check_shape, check_text
from kit.sandbox.deletes import Deletes
from kit.sandbox.messages import Messages
from kit.sandbox.oauth import OAuth
from kit.sandbox.oauth_clients import OAuthClients
from kit.sandbox.operator import OPERATOR_PREFIX, Operator, OperatorCall, operator_template
from kit.sandbox.public_keys import PublicKeyDirectory
from kit.sandbox.reply import Reply, hide_token, json_reply, problem_reply
from kit.sandbox.room import Room
from kit.sandbox.schema import spec
from kit.sandbox.store import Store
from kit.sandbox.users import Users

__all__ = ["MAX_BODY_BYTES", "ROOM_ROUTES", "ROUTES", "SANDBOX_PATHS", "Reply", "Sandbox"]

log = logging.getLogger("kit.sandbox")

#: The routing table: each X API operation the sandbox implements, and the (resource, method)
#: that answers it. The sandbox-only routes (OAuth, POST /sandbox/users, the operator's
#: `/sandbox/operator/...` in `operator.OPERATOR_ROUTES`) are in `Sandbox._dispatch`.
ROUTES: Mapping[str, tuple[str, str]] = MappingProxyType({
    "addUserPublicKey": ("public_keys", "add"),
    "getUsersPublicKey": ("public_keys", "get_one"),
    "getUsersPublicKeys": ("public_keys", "get_many"),
    "getChatConversation": ("conversations", "get"),
    "getChatConversations": ("conversations", "list_conversations"),
    "addConversationKeys": ("key_changes", "add"),
    "initializeChatGroup": ("groups", "initialize"),
    "createChatConversation": ("groups", "create"),
    "addChatGroupMembers": ("groups", "add_members"),
    "getChatConversationEvents": ("events", "list_events"),
    "sendChatMessage": ("messages", "send"),
    "deleteChatMessages": ("deletes", "delete"),
})  # fmt: skip


#: The room's sandbox-only routes: path -> (method, action of `Sandbox`); see `kit.sandbox.room`.
ROOM_ROUTES: Mapping[str, tuple[str, str]] = MappingProxyType({
    "/sandbox/join": ("POST", "join"),
    "/sandbox/room/members": ("GET", "members"),
    "/sandbox/health": ("GET", "health"),
    "/": ("GET", "dashboard"),
    "/sandbox/dashboard.json": ("GET", "dashboard_data"),
    "/sandbox/dashboard/events": ("GET", "dashboard_events"),
    **{path: ("GET", "static") for path in STATIC_FILES},
})  # fmt: skip

#: The sandbox-only paths with no parameter (logged as they are).
SANDBOX_PATHS = frozenset({"/sandbox/users", "/sandbox/oauth2/authorize", "/2/oauth2/token", *ROOM_ROUTES})


class Sandbox:
    """An offline X API for chat keys: users, public keys, conversations, key changes, messages.

    `db` is a SQLite path (``":memory:"`` by default). `rate_limit` (requests per user and
    endpoint per 15 minutes) is off unless given, as is `user_creation_limit` (users
    `POST /sandbox/users` creates per client address per 15 minutes). `conversation_quota_bytes` bounds the
    stored events of each conversation (`kit.sandbox.limits.CONVERSATION_QUOTA_BYTES` by default).
    `operator_token` unlocks the operator's endpoints (`/sandbox/operator/...`); without one they all answer 403.
    """

    ROUTES = ROUTES

    def __init__(
        self,
        *,
        db: str = ":memory:",
        rate_limit: int | None = None,
        clock: Callable[[], float] = time.time,
        max_body_bytes: int = MAX_BODY_BYTES,
        conversation_quota_bytes: int = CONVERSATION_QUOTA_BYTES,
        operator_token: str | None = None,
        user_creation_limit: int | None = None,
    ) -> None:
        self.context = Context(Store(db), clock, conversation_quota_bytes)
        self.max_body_bytes = max_body_bytes
        self.rate_limit = RateLimit(rate_limit) if rate_limit else None
        self.user_creation_limit = RateLimit(user_creation_limit) if user_creation_limit else None
        self._spec = spec()
        users = Users(self.context)
        self.oauth_clients = OAuthClients()
        self._oauth = OAuth(users, self.oauth_clients)
        self._operator = Operator(operator_token, {
            "revoke_user": self._op_revoke,
            "free_name": self._op_free_name,
            "reset_room": self._op_reset,
            "room_status": self._op_status,
            "register_client": self._op_register_client,
        })  # fmt: skip
        public_keys = PublicKeyDirectory(self.context, users)
        self._room = Room(self.context, users, public_keys.lies)
        self._dashboard = Dashboard(self.context)
        # Each takes the request as (path, query, headers, body, client address).
        self._room_actions: dict[str, Callable[[str, list[tuple[str, str]], dict[str, str], bytes, str], Reply]] = {
            "join": self._room_join,
            "members": self._room_members,
            "health": lambda *_: self._room.health(__version__),
            "dashboard": lambda *_: self._dashboard.page(__version__),
            "dashboard_data": lambda *_: self._dashboard.data_reply(__version__),
            "dashboard_events": lambda path, query, *_: self._dashboard.events_reply(query),
            "static": lambda path, *_: Dashboard.static(path),
        }
        conversations = Conversations(self.context, users)
        events = EventLog(self.context, conversations)
        key_changes = KeyChanges(self.context, public_keys, conversations, events)
        resources = {
            "public_keys": public_keys,
            "conversations": conversations,
            "events": events,
            "key_changes": key_changes,
            "groups": Groups(self.context, users, key_changes),
            "messages": Messages(self.context, public_keys, conversations, events),
            "deletes": Deletes(self.context, public_keys, conversations, events),
        }
        self._users = users
        self._public_keys = public_keys
        self._handlers: dict[str, Callable[[Call], Reply]] = {
            op_id: getattr(resources[resource], method) for op_id, (resource, method) in ROUTES.items()
        }

    @property
    def store(self) -> Store:
        """The SQLite store behind this sandbox."""
        return self.context.store

    @property
    def clock(self) -> Callable[[], float]:
        """The sandbox's clock (seconds, like `time.time`)."""
        return self.context.clock

    def __repr__(self) -> str:
        return f"Sandbox(db={self.store.path!r})"

    def revoke(self, user_id: str) -> bool:
        """Revoke a user for good: every token of theirs stops working, their outstanding OAuth
        codes are deleted, and no new code or token is issued to them. False if no such user.
        Over HTTP: `POST /sandbox/operator/users/{id}/revoke` with the operator token."""
        found = self._users.revoke(user_id)  # first: an authorize after this fails to authenticate
        self._oauth.forget_user(user_id)
        return found

    def register_client(self, client_id: str, redirect_uris: list[str]) -> dict[str, object]:
        """Register an OAuth client with its exact redirect URIs (replacing its old ones).
        Over HTTP: `POST /sandbox/operator/clients` with the operator token."""
        return self.oauth_clients.register(client_id, redirect_uris)

    def _op_revoke(self, call: OperatorCall) -> Reply:
        user_id = call.params["id"]
        if not self.revoke(user_id):
            raise APIError.of(404, f"no user {user_id} in this sandbox", resource_type="user", value=user_id)
        return json_reply(200, {"data": {"id": user_id, "revoked": True}})

    def free_name(self, user_id: str) -> str | None:
        """Free the room name `user_id` holds (the name, or None if they hold none): the account
        keeps its id but its tokens end and it is no longer found by the name; the learner joins
        again with a new account. Over HTTP: `POST /sandbox/operator/users/{id}/free-name`."""
        freed = self._room.free_name(user_id)
        if freed is not None:
            self._oauth.forget_user(user_id)
        return freed

    def reset(self) -> None:
        """Empty the room, keeping its file: users, keys, conversations, events, tokens and OAuth
        codes are gone (registered OAuth clients stay). Old tokens answer a 401 saying the room was
        reset. Over HTTP: `POST /sandbox/operator/reset` with ``{"confirm": "reset"}``."""
        self.store.reset()
        self._oauth.forget_all()
        self._public_keys.lies.clear()
        for limit in (self.rate_limit, self.user_creation_limit):
            if limit is not None:
                limit.clear()

    def _op_free_name(self, call: OperatorCall) -> Reply:
        user_id = call.params["id"]
        freed = self.free_name(user_id)
        if freed is None:
            why = "no such user" if not self._users.exists(user_id) else "they hold no room name"
            raise APIError.of(404, f"user {user_id} holds no name in this room ({why})", resource_type="user", value=user_id)
        return json_reply(200, {"data": {"id": user_id, "name": freed, "freed": True}})

    def _op_reset(self, call: OperatorCall) -> Reply:
        body = read_json_body(call.body, call.headers, required=False)
        if not isinstance(body, dict) or body.get("confirm") != "reset":
            raise APIError.of(
                400, 'a reset removes every user, key, conversation and token: send {"confirm": "reset"} to confirm', parameter="confirm"
            )
        self.reset()
        return json_reply(200, {"data": {"reset": True}})

    def _op_status(self, call: OperatorCall) -> Reply:
        users, conversations = self._room.counts()
        data = {"operator": True, "users": users, "conversations": conversations, "members": self._room.listing(include_revoked=True)}
        return json_reply(200, {"data": data})

    def _room_join(self, path: str, query: list[tuple[str, str]], headers: dict[str, str], body: bytes, client: str) -> Reply:
        limit_headers = self._limit(self.user_creation_limit, client, "createSandboxUser")  # one budget with /sandbox/users
        return self._with(limit_headers, self._room.join(self._read_body("joinRoom", body, headers, required=True)))

    def _room_members(self, path: str, query: list[tuple[str, str]], headers: dict[str, str], body: bytes, client: str) -> Reply:
        caller = self._users.authenticate(headers)
        for name, value in query:
            check_text(name, "a query parameter name", limit=256, parameter="query")
            check_text(value, f"query parameter {name}", limit=256, parameter=name)
        return self._with(self._limit(self.rate_limit, caller, "getRoomMembers"), self._room.members(query))

    def _op_register_client(self, call: OperatorCall) -> Reply:
        body = read_json_body(call.body, call.headers, required=True)
        if not isinstance(body, dict):
            raise APIError.of(400, "the body must be {\"client_id\": ..., \"redirect_uris\": [...]}", parameter="body")
        return json_reply(201, {"data": self.register_client(body.get("client_id"), body.get("redirect_uris"))})

    def route_template(self, method: str, path: str) -> str:
        """The route `path` matches, as a template (``/2/chat/conversations/{id}/events``), for
        logs: never the path as sent, which may hold anything (a token pasted as an id)."""
        if path in SANDBOX_PATHS:
            return path
        if path.startswith(OPERATOR_PREFIX):
            return operator_template(method, path)
        template = next((op.template for op in self._spec.operations if op.pattern.match(path)), None)
        return template if template is not None else "{unmatched path}"

    def lie(self, *, swap_keys_of: str, with_keys: PublicKeys | None) -> None:
        """Play a lying server, for the lesson: from now on whoever fetches `swap_keys_of`'s public keys
        gets `with_keys` (under the same key versions); `with_keys=None` tells the truth again.

        A Python call on this object only: no HTTP route reaches it, and nothing is stored.
        """
        check_user_id(swap_keys_of, what="swap_keys_of")
        if with_keys is None:
            self._public_keys.lies.pop(swap_keys_of, None)
            return
        if not isinstance(with_keys, PublicKeys):
            raise TypeError(f"with_keys must be kit.PublicKeys (e.g. mallory.public_keys), got {type(with_keys).__name__}")
        self._public_keys.lies[swap_keys_of] = with_keys

    # ------------------------------------------------------------------ the door

    def handle(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        body: bytes,
        *,
        client: str | None = None,
    ) -> Reply:
        """Answer one HTTP request. Never raises; every failure is a problem reply.

        `headers` is a mapping or, as the doors pass them, every (name, value) pair as sent,
        so a header sent twice is seen. `client` is the caller's address (the HTTP door's), for
        the limit on creating users."""
        lowered: dict[str, str] = {}
        try:
            lowered = read_headers(headers)
            return self._dispatch(method.upper(), path, query, lowered, body, client or "in-process")
        except APIError as err:
            return hide_token(problem_reply(err), lowered)
        except KitError as err:  # input the rules did not catch earlier: still the client's, a 400
            return hide_token(problem_reply(APIError.of(400, str(err))), lowered)
        except Exception:  # a bug in the sandbox: log it (no request data), answer without a trace
            log.exception("sandbox error on %s %s", method, self.route_template(method, path))
            return problem_reply(APIError.of(500, "the sandbox hit an internal error; the request was not stored"))

    def _limit(self, limit: RateLimit | None, who: str, what: str) -> dict[str, str]:
        return limit.check(who, what, self.clock()) if limit is not None else {}

    def _dispatch(
        self, method: str, path: str, query: list[tuple[str, str]], headers: dict[str, str], body: bytes, client: str
    ) -> Reply:
        if len(body) > self.max_body_bytes:
            raise APIError.of(413, f"request body is {len(body)} bytes; the sandbox accepts at most {self.max_body_bytes}")
        if path.startswith(OPERATOR_PREFIX):
            return self._operator.handle(method, path, headers, body)
        if path == "/sandbox/oauth2/authorize" and method == "GET":
            user = self._users.authenticate(headers)
            return self._with(self._limit(self.rate_limit, user, "oauthAuthorize"), self._oauth.authorize(user, query, self.clock()))
        if path == "/2/oauth2/token" and method == "POST":
            return self._with(self._limit(self.rate_limit, client, "oauthToken"), self._oauth.token(headers, body, self.clock()))
        room_route = ROOM_ROUTES.get(path)
        if room_route is not None:
            allowed, action = room_route
            if method != allowed:
                raise APIError.of(405, f"{method} is not allowed on {path}; use {allowed}", headers={"allow": allowed})
            return self._room_actions[action](path, query, headers, body, client)
        if path == "/sandbox/users":
            if method != "POST":
                raise APIError.of(405, f"{method} is not allowed on /sandbox/users; use POST", headers={"allow": "POST"})
            limit_headers = self._limit(self.user_creation_limit, client, "createSandboxUser")
            return self._with(limit_headers, self._users.create(self._read_body("createSandboxUser", body, headers, required=True)))
        found = self._spec.find(method, path)
        if found is None:
            raise APIError.of(404, f"no endpoint {method} {path} in the sandbox", resource_type="endpoint", value=path)
        op, params = found
        caller = self._users.authenticate(headers)
        for name, value in params.items():
            check_text(value, f"path parameter {name}", limit=256, parameter=name)
        for name, value in query:
            check_text(name, "a query parameter name", limit=256, parameter="query")
            check_text(value, f"query parameter {name}", parameter=name)
        op.validate_path(params)
        parsed_query = op.validate_query(query)
        parsed_body = None
        if op.body_validator is not None:
            parsed_body = self._read_body(op.operation_id, body, headers, required=op.body_required)
            op.validate_body(parsed_body)
        elif len(body) > body_limit(op.operation_id):
            self._read_body(op.operation_id, body, headers, required=False)
        limit_headers = self.rate_limit.check(caller, op.operation_id, self.clock()) if self.rate_limit else {}
        handler = self._handlers.get(op.operation_id)
        if handler is None:
            raise APIError.of(
                404, f"{op.operation_id} is in the X API but not in the sandbox", resource_type="endpoint", value=path
            )
        return self._with(limit_headers, handler(Call(op.operation_id, params, parsed_query, parsed_body, body, caller)))

    @staticmethod
    def _with(limit_headers: dict[str, str], reply: Reply) -> Reply:
        reply.headers.update(limit_headers)
        return reply

    @staticmethod
    def _read_body(op_id: str, body: bytes, headers: dict[str, str], *, required: bool) -> Any:
        """The body as JSON, refused first by its size for `op_id` (413), then by any array,
        string or object over its bound (`kit.sandbox.limits`): all before any schema walk."""
        limit = body_limit(op_id)
        if len(body) > limit:
            raise APIError.of(413, f"request body is {len(body)} bytes; {op_id} accepts at most {limit}", parameter="body")
        parsed = read_json_body(body, headers, required=required)
        check_shape(parsed)
        return parsed
