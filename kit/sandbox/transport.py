"""Door one: the sandbox as an httpx transport, in the same process.

No port, no thread, no event loop: `httpx.Client(transport=SandboxTransport(sandbox))`
calls `Sandbox.handle` directly, so it works in a notebook and under nbval.
"""

from __future__ import annotations

import httpx

from kit.sandbox.service import Sandbox

__all__ = ["SandboxTransport"]


class SandboxTransport(httpx.BaseTransport):
    """An `httpx.BaseTransport` that answers from a `Sandbox` in this process."""

    def __init__(self, sandbox: Sandbox | None = None) -> None:
        self.sandbox = sandbox if sandbox is not None else Sandbox()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        query = request.url.params.multi_items() if request.url.query else []
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in request.headers.raw]
        reply = self.sandbox.handle(request.method, request.url.path, query, headers, body)
        return httpx.Response(reply.status, headers=reply.headers, content=reply.body, request=request)

    def __repr__(self) -> str:
        return f"SandboxTransport({self.sandbox!r})"
