"""The loopback server for the benchmark: one uvicorn, two routes on the same app.

    python -m benchmarks.loopback_server PORT [--room]

``POST /bench/echo`` is a bare ASGI echo (reads the body, sends it back); every other path goes
to the sandbox (`kit.sandbox.create_app`), so both contenders share the server, the event loop,
the HTTP parser and the connection handling, and differ only in what the sandbox does.
``--room``: the sandbox has a served room's rate limits and the operator token from
``KIT_BENCH_OPERATOR_TOKEN`` (`benchmarks.room`).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import uvicorn

from kit.sandbox import Sandbox, create_app


def make_app(*, room: bool = False) -> Any:
    if room:
        from kit.sandbox.server import ROOM_RATE_LIMIT, ROOM_USER_CREATION_LIMIT

        sandbox = Sandbox(
            rate_limit=ROOM_RATE_LIMIT,
            user_creation_limit=ROOM_USER_CREATION_LIMIT,
            operator_token=os.environ["KIT_BENCH_OPERATOR_TOKEN"],
        )
    else:
        sandbox = Sandbox()
    sandbox_app = create_app(sandbox)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/bench/echo":
            chunks = []
            more = True
            while more:
                message = await receive()
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            body = b"".join(chunks)
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/octet-stream")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await sandbox_app(scope, receive, send)

    return app


def main() -> None:
    port = int(sys.argv[1])
    uvicorn.run(make_app(room="--room" in sys.argv[2:]), host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
