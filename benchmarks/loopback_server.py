"""The loopback server for the benchmark: one uvicorn, two routes on the same app.

    python -m benchmarks.loopback_server PORT

``POST /bench/echo`` is a bare ASGI echo (reads the body, sends it back); every other path goes
to the sandbox (`kit.sandbox.create_app`), so both contenders share the server, the event loop,
the HTTP parser and the connection handling, and differ only in what the sandbox does.
"""

from __future__ import annotations

import sys
from typing import Any

import uvicorn

from kit.sandbox import Sandbox, create_app


def make_app() -> Any:
    sandbox_app = create_app(Sandbox())

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
    uvicorn.run(make_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
