"""`connect()`: a `Client` for the usual set-ups, chosen by arguments or the environment
(the in-process sandbox, a sandbox server, or the live X API)."""

from __future__ import annotations

import os
from typing import Any

import httpx

from kit.client.endpoints import Client
from kit.client.request import TokenAuth
from kit.oauth import LIVE_BASE_URL

__all__ = ["connect"]

_SANDBOX_URL = "http://sandbox.invalid"


def connect(
    *,
    base_url: str | None = None,
    token: str | None = None,
    user_id: str | None = None,
    sandbox: Any = None,
    quiet: bool = False,
    timeout: float = 30.0,
    max_retries: int = 0,
) -> Client:
    """A client for the usual set-ups, chosen by arguments or environment:

    - nothing set: the in-process sandbox (offline; one line says so);
    - `X_API_BASE_URL` (or `base_url`): a sandbox server, e.g. the one a workshop room shares;
    - `X_API_USER_TOKEN` (or `token`) without a base URL: the live API at https://api.x.com.

    `max_retries`: retries of a rate-limited (429) request, see `Client`.
    """
    base_url = base_url or os.environ.get("X_API_BASE_URL") or None
    token = token or os.environ.get("X_API_USER_TOKEN") or None
    auth = TokenAuth(token) if token else None
    if base_url is None and token is None:
        from kit.sandbox import Sandbox, SandboxTransport

        transport: httpx.BaseTransport = SandboxTransport(sandbox if sandbox is not None else Sandbox())
        http = httpx.Client(transport=transport, base_url=_SANDBOX_URL, timeout=timeout)
        where = "the in-process sandbox (offline; set X_API_BASE_URL or X_API_USER_TOKEN to go elsewhere)"
    else:
        url = base_url or LIVE_BASE_URL
        http = httpx.Client(base_url=url, auth=auth, timeout=timeout)
        where = f"the live X API at {url}" if url == LIVE_BASE_URL else f"the sandbox server at {url}"
    if not quiet:
        print(f"kit: talking to {where}")
    return Client(http, user_id=user_id, max_retries=max_retries)
