"""The sandbox: an offline X API for chat keys, with one core and two doors.

- `Sandbox`: the rules and the state (SQLite, in memory or in a file);
- `SandboxTransport`: door one, an httpx transport in the same process;
- `create_app` / `serve`: door two, a real HTTP server under uvicorn.
"""

from kit.sandbox.calls import MAX_BODY_BYTES
from kit.sandbox.reply import Reply
from kit.sandbox.service import Sandbox

__all__ = ["MAX_BODY_BYTES", "Reply", "Sandbox", "SandboxTransport", "create_app", "serve"]


def __getattr__(name: str):  # httpx and uvicorn load only when a door is used
    if name == "SandboxTransport":
        from kit.sandbox.transport import SandboxTransport

        return SandboxTransport
    if name in ("create_app", "serve"):
        from kit.sandbox import server

        return getattr(server, name)
    raise AttributeError(f"module 'kit.sandbox' has no attribute {name!r}")
