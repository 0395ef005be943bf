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

__all__ = ["create_app", "serve"]


def create_app(sandbox: Sandbox | None = None) -> Any:
    """An ASGI application over `sandbox` (a new in-memory one by default)."""
    import asyncio
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
        if not too_big:
            more = True
            while more:
                message = await receive()
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
        else:
            query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            reply = await asyncio.get_running_loop().run_in_executor(
                worker(), core.handle, scope["method"], scope["path"], query, headers, b"".join(chunks)
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


def serve(*, host: str = "127.0.0.1", port: int = 8000, db: str | None = None, rate_limit: int | None = None) -> None:
    """Run the sandbox under uvicorn until interrupted.

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
    sandbox = Sandbox(db=db or ":memory:", rate_limit=rate_limit, operator_token=operator_token)
    token_file = token_file_for(db or ":memory:")
    if token_file is not None:
        write_token_file(token_file, operator_token)
    where = f"SQLite file {db}" if db else "memory (lost when the server stops)"
    banner = {"sandbox": f"http://{host}:{port}", "state": where, "operator_token": operator_token}
    if token_file is not None:
        banner["operator_token_file"] = str(token_file)
    config = uvicorn.Config(create_app(sandbox), host=host, port=port, log_level="info", access_log=True)
    install_log_filters(sandbox.route_template)  # after Config: it sets up uvicorn's logging
    print(json.dumps(banner), flush=True)
    uvicorn.Server(config).run()
