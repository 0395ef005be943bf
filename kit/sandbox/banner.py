"""What a served sandbox prints when it starts: the addresses learners use, the dashboard, the
operator's link.

    learners:   http://192.168.1.20:8000      (every non-loopback IPv4 address when bound to 0.0.0.0)
    dashboard:  http://192.168.1.20:8000/     (for the projector)
    operator:   http://127.0.0.1:8000/#operator=op_...   (the operator token, printed once)
    {"sandbox": "http://0.0.0.0:8000", ...}   (one JSON line for tools; no token in it)

The operator link opens the same dashboard with the operator's buttons; its token is in the URL
fragment, which browsers never send to the server. It is on loopback, so open it on the
machine that serves (or replace the host by one of the learners' addresses).
"""

from __future__ import annotations

import ipaddress
import socket
import struct
import sys
from collections.abc import Iterable

__all__ = ["banner_lines", "learner_addresses", "machine_addresses"]

_WILDCARDS = {"0.0.0.0", "::", ""}


def machine_addresses() -> list[str]:
    """This machine's IPv4 addresses, loopback included, found without sending a packet: each
    interface's address (Linux), the host name's, and the one a default route would use."""
    found: list[str] = []
    if sys.platform.startswith("linux"):
        try:
            import fcntl

            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                for _, name in socket.if_nameindex():
                    try:
                        packed = fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", name.encode()[:15]))  # SIOCGIFADDR
                    except OSError:
                        continue  # an interface without an IPv4 address
                    found.append(socket.inet_ntoa(packed[20:24]))
        except (OSError, ImportError):
            pass
    try:
        found += [str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    except OSError:
        pass
    for probe in ("10.255.255.255", "192.0.2.1"):  # a UDP "connect" picks a route and sends nothing
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect((probe, 9))
                found.append(str(s.getsockname()[0]))
        except OSError:
            pass
    return list(dict.fromkeys(found))


def learner_addresses(host: str, port: int, *, machine: Iterable[str] | None = None) -> list[str]:
    """The base URLs learners use: for a wildcard host (0.0.0.0, ::) every non-loopback address
    of the machine (loopback if it has none); for a named host, that host alone."""
    if host not in _WILDCARDS:
        shown = f"[{host}]" if ":" in host else host
        return [f"http://{shown}:{port}"]
    usable = []
    for text in machine if machine is not None else machine_addresses():
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            continue
        if not (address.is_loopback or address.is_unspecified or address.is_link_local):
            usable.append(f"http://{address}:{port}" if address.version == 4 else f"http://[{address}]:{port}")
    return list(dict.fromkeys(usable)) or [f"http://127.0.0.1:{port}"]


def banner_lines(
    *, host: str, port: int, operator_token: str, state: str, rate_limit: str, token_file: str | None,
    machine: Iterable[str] | None = None,
) -> list[str]:  # fmt: skip
    """The human lines of the start-up banner (the operator token once, in the operator link)."""
    learners = learner_addresses(host, port, machine=machine)
    local = "127.0.0.1" if host in _WILDCARDS else (f"[{host}]" if ":" in host else host)
    lines = ["xchat-kit sandbox: a workshop room", "  learners connect to (write it on the board):"]
    lines += [f"    {url}" for url in learners]
    if host in ("127.0.0.1", "localhost", "::1"):
        lines.append("    (loopback only: start with --host 0.0.0.0 for a room)")
    lines.append(f"  dashboard for the projector: {learners[0]}/")
    lines.append(f"  operator dashboard, keep it off the projector: http://{local}:{port}/#operator={operator_token}")
    if token_file is not None:
        lines.append(f"  operator token also in {token_file} (owner-only); python -m kit room ... reads it")
    lines.append(f"  state: {state}; rate limit: {rate_limit}")
    return lines
