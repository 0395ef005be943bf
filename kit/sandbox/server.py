"""Door two: the sandbox as a real HTTP server (ASGI, served by uvicorn).

    python -m kit sandbox --host 127.0.0.1 --port 8000 --db workshop.sqlite

A workshop room shares one server; each participant points the kit at its URL
(`X_API_BASE_URL=http://host:8000`). Requests are answered by one worker thread of the app's
own, so a slow SQLite write never blocks the event loop; bodies over the limit get 413 before
they are read whole.

Why one thread: `Sandbox.handle` is pure Python under the GIL and its store takes one lock
(SQLite has one writer), so more threads cannot answer faster; they only contend. With
`asyncio.to_thread` (a pool of several threads) the init call reached 0.5x the requests/s of a
bare echo route on the same server; with one worker, 0.85x (`make bench`, loopback rows).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from kit.errors import APIError
from kit.sandbox.logs import install as install_log_filters
from kit.sandbox.operator import new_operator_token, token_file_for, write_token_file
from kit.sandbox.reply import problem_reply
from kit.sandbox.service import Sandbox

__all__ = [
    "BODY_TIMEOUT_S",
    "HEADER_TIMEOUT_S",
    "LIMIT_CONCURRENCY",
    "MAX_HEADER_BYTES",
    "ROOM_RATE_LIMIT",
    "ROOM_USER_CREATION_LIMIT",
    "TIMEOUT_KEEP_ALIVE_S",
    "create_app",
    "serve",
]

#: Connections and requests uvicorn holds at once; beyond, a new request gets uvicorn's 503.
#: A room of 30 learners keeps about 2 connections each (kernel, dashboard); the load test, 60.
LIMIT_CONCURRENCY = 200
#: An idle kept-alive connection is closed after this many seconds (uvicorn's default, made explicit).
TIMEOUT_KEEP_ALIVE_S = 5
#: A connection must send a whole request head within this many seconds of opening (or of its
#: previous answer), else it is closed: a slowloris client cannot hold a slot.
HEADER_TIMEOUT_S = 10.0
#: A request body must arrive whole within this many seconds (8 MB at 300 kB/s), else 408.
BODY_TIMEOUT_S = 30.0
#: The largest request head (request line and headers) h11 buffers; the API's are well under 2 kB.
MAX_HEADER_BYTES = 16 * 1024
#: A served room's rate limits (``--no-rate-limit`` turns them off): requests per user and
#: endpoint per 15 minutes (one every 3 s on one endpoint, sustained: a learner runs a cell a few
#: times a minute), and users created per client address per 15 minutes (a room of 30 behind one
#: address, each with a spare).
ROOM_RATE_LIMIT = 300
ROOM_USER_CREATION_LIMIT = 60


def create_app(sandbox: Sandbox | None = None, *, body_timeout_s: float = BODY_TIMEOUT_S) -> Any:
    """An ASGI application over `sandbox` (a new in-memory one by default)."""
    import asyncio
    import functools
    from concurrent.futures import ThreadPoolExecutor

    core = sandbox if sandbox is not None else Sandbox()
    workers: list[ThreadPoolExecutor] = []  # the one worker, started on first use (again after a shutdown)

    def worker() -> ThreadPoolExecutor:
        if not workers:
            workers.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="kit-sandbox"))
        return workers[0]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    if workers:
                        workers.pop().shutdown(wait=True)  # requests in flight finish their SQLite writes
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        declared = next((v for k, v in headers if k.lower() == "content-length"), "")
        chunks: list[bytes] = []
        size = 0
        too_big = declared.isdigit() and int(declared) > core.max_body_bytes
        head_bytes = sum(len(k) + len(v) + 4 for k, v in scope["headers"])
        slow = False
        if head_bytes > MAX_HEADER_BYTES:  # h11 caps a head that trickles in; one sent whole is counted here
            reply = problem_reply(APIError.of(431, f"request headers are {head_bytes} bytes; the sandbox accepts at most {MAX_HEADER_BYTES}"))
            await send({"type": "http.response.start", "status": reply.status,
                        "headers": [(k.encode(), v.encode()) for k, v in reply.headers.items()]})  # fmt: skip
            await send({"type": "http.response.body", "body": reply.body})
            return
        if not too_big:
            more = True
            deadline = asyncio.get_running_loop().time() + body_timeout_s
            while more:
                try:
                    message = await asyncio.wait_for(receive(), max(deadline - asyncio.get_running_loop().time(), 0.001))
                except asyncio.TimeoutError:
                    slow = True
                    break
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > core.max_body_bytes:
                    too_big = True
                    break
                chunks.append(chunk)
                more = message.get("more_body", False)
        if too_big:
            reply = problem_reply(
                APIError.of(413, f"request body is larger than the {core.max_body_bytes} bytes the sandbox accepts")
            )
        elif slow:
            reply = problem_reply(APIError.of(408, f"the request body did not arrive within {body_timeout_s:g} s"))
            reply.headers["connection"] = "close"
        else:
            query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            client = scope.get("client")
            reply = await asyncio.get_running_loop().run_in_executor(
                worker(),
                functools.partial(core.handle, client=str(client[0]) if client else None),
                scope["method"],
                scope["path"],
                query,
                headers,
                b"".join(chunks),
            )
        await send(
            {
                "type": "http.response.start",
                "status": reply.status,
                "headers": [(k.encode(), v.encode()) for k, v in reply.headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": reply.body})

    app.sandbox = core  # type: ignore[attr-defined]
    return app


def _protocol(header_timeout_s: float) -> Any:
    """uvicorn's h11 protocol with a request-head deadline (uvicorn times out idle kept-alive
    connections, but not a new one that sends its head slowly or not at all)."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeadDeadline(H11Protocol):  # type: ignore[misc]
        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm_head_deadline()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm_head_deadline()

        def _arm_head_deadline(self) -> None:
            self.loop.call_later(header_timeout_s, self._head_deadline, self.cycle)

        def _head_deadline(self, cycle_then: Any) -> None:
            # No request began since the deadline was set (the cycle is the same one, or none).
            if self.cycle is cycle_then and not self.transport.is_closing():
                self.transport.close()

    return HeadDeadline


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    db: str | None = None,
    rate_limit: int | None = ROOM_RATE_LIMIT,
    user_creation_limit: int | None = ROOM_USER_CREATION_LIMIT,
    limit_concurrency: int = LIMIT_CONCURRENCY,
    header_timeout_s: float = HEADER_TIMEOUT_S,
) -> None:
    """Run the sandbox under uvicorn until interrupted, rate-limited as a room unless
    `rate_limit` and `user_creation_limit` are None.

    A fresh operator token is made at every start: printed once in the start-up line and, with a
    database file, written beside it owner-only (``room.sqlite.operator-token``, mode 0600)."""
    import sys

    # This process is the server's own, so it may skip what it never uses: jsonschema imports the
    # optional `rfc3987_syntax` plugin at import time (only for "iri" format checks, which the
    # sandbox does not run), and that compiles ~38 Lark grammars: seconds of start-up on a small
    # machine where jupyterlab pulled it in. Marking it absent makes jsonschema skip it.
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    import uvicorn

    operator_token = new_operator_token()
    sandbox = Sandbox(
        db=db or ":memory:", rate_limit=rate_limit, user_creation_limit=user_creation_limit, operator_token=operator_token
    )
    token_file = token_file_for(db or ":memory:")
    if token_file is not None:
        write_token_file(token_file, operator_token)
    where = f"SQLite file {db}" if db else "memory (lost when the server stops)"
    banner = {"sandbox": f"http://{host}:{port}", "state": where, "operator_token": operator_token}
    if token_file is not None:
        banner["operator_token_file"] = str(token_file)
    banner["rate_limit"] = f"{rate_limit} per user and endpoint per 15 min" if rate_limit else "off"
    config = uvicorn.Config(
        create_app(sandbox),
        host=host,
        port=port,
        log_level="info",
        access_log=True,
        http=_protocol(header_timeout_s),
        limit_concurrency=limit_concurrency,
        timeout_keep_alive=TIMEOUT_KEEP_ALIVE_S,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
    )
    install_log_filters(sandbox.route_template)  # after Config: it sets up uvicorn's logging
    print(json.dumps(banner), flush=True)
    uvicorn.Server(config).run()
