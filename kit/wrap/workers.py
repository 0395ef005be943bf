"""Both cores: large rosters wrapped partly by helper processes, one on each other core.

`wrap_all` is `kit.wrap.wrap_many` into a list; from `PARALLEL_MIN` participants on, helper
processes (`Helper`) take chunks of the roster while this process wraps the rest.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric import ec

from kit.points import sec1
from kit.wrap.ecies import WRAPPED_KEY_SIZE, check_key, wrap_block

if TYPE_CHECKING:
    import subprocess

__all__ = [
    "PARALLEL_MIN",
    "WORKERS",
    "Helper",
    "close_helpers",
    "helpers",
    "helpers_for",
    "inherited",
    "usable_cores",
    "wrap_all",
]


# `cryptography` keeps the GIL during EC operations (two threads wrap slower than one: measured
# in benchmarks/), so the other cores are used through helper processes. Each helper is a plain
# `python -c` child that reads requests on stdin and answers on stdout:
#
#   request  = count (u32 big-endian) ‖ conversation key (32) ‖ count × 65-byte SEC1 points
#   answer   = 0x00 ‖ count × 113-byte wrapped keys      (or 0x01 ‖ u32 length ‖ error text)
#
# It is started on first use, kept for the next init, and exits when its stdin closes (this
# process exits or dies). No pickling, no multiprocessing `__main__` re-import (works in
# notebooks and in scripts without an `if __name__ == "__main__"` guard). The calling thread
# wraps from the front of the roster while helpers take shrinking chunks from the back; the
# results land in place, so the order is the roster's. If a helper cannot start or fails, its
# chunk is wrapped here and the kit falls back to one core.

#: Rosters smaller than this are wrapped on one core: below it, handing chunks to a helper
#: costs more than it saves. `make bench` measured the crossover at about 128 participants on
#: 2 cores (benchmarks/results.json, "crossover" rows); 256 leaves a margin.
PARALLEL_MIN = 256
#: Helper processes: None = one per usable core minus one; 0 = never. The environment
#: variable XCHAT_KIT_WRAP_WORKERS sets it too.
WORKERS: int | None = (
    int(os.environ["XCHAT_KIT_WRAP_WORKERS"]) if os.environ.get("XCHAT_KIT_WRAP_WORKERS", "").isdigit() else None
)

_BLOCK = 16  # participants the calling thread claims at a time (about 1.2 ms of work)
_MIN_CHUNK = 64  # smallest chunk worth a round trip to a helper

_WORKER_SOURCE = r"""
import hashlib, sys
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

def serve(inp, out):
    generate, curve, ecdh = ec.generate_private_key, ec.SECP256R1(), ec.ECDH()
    load, x962, uncompressed = ec.EllipticCurvePublicKey.from_encoded_point, Encoding.X962, PublicFormat.UncompressedPoint
    sha256, counter = hashlib.sha256, b"\x00\x00\x00\x01"
    parsed = {}  # the same roster is usually wrapped again at the next rotation
    out.write(b"R")
    out.flush()
    while True:
        head = inp.read(36)
        count = int.from_bytes(head[:4], "big") if len(head) == 36 else 0
        points = inp.read(65 * count) if count else b""
        if count == 0 or len(points) != 65 * count:
            return
        key = head[4:]
        try:
            if len(parsed) > 50000:
                parsed.clear()
            wrapped = []
            for i in range(0, 65 * count, 65):
                point = points[i : i + 65]
                public = parsed.get(point)
                if public is None:
                    public = parsed[point] = load(curve, point)
                eph = generate(curve)
                eph_point = eph.public_key().public_bytes(x962, uncompressed)
                k = sha256(eph.exchange(ecdh, public) + counter + eph_point).digest()
                wrapped.append(eph_point + AESGCM(k[:16]).encrypt(k[16:], key, None))
            out.write(b"\x00" + b"".join(wrapped))
        except Exception as exc:
            text = repr(exc).encode("utf-8", "replace")[:2000]
            out.write(b"\x01" + len(text).to_bytes(4, "big") + text)
        out.flush()

serve(sys.stdin.buffer, sys.stdout.buffer)
"""


class Helper:
    """One helper process (see above); used by one init at a time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None
        self.broken = False

    def start(self) -> None:
        if self.proc is None:
            import subprocess  # only here: `import kit` stays light

            # -P: the current directory is not on the child's path (a stray hashlib.py there
            # cannot be imported instead of the real one).
            self.proc = subprocess.Popen(
                [sys.executable, "-P", "-c", _WORKER_SOURCE],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            if self.proc.stdout is None or self.proc.stdout.read(1) != b"R":
                raise OSError("the wrap helper process did not start")

    def wrap(self, key: bytes, points: list[bytes]) -> list[bytes]:
        proc = self.proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        count = len(points)
        proc.stdin.write(count.to_bytes(4, "big") + key + b"".join(points))
        proc.stdin.flush()
        status = proc.stdout.read(1)
        if status == b"\x00":
            data = proc.stdout.read(WRAPPED_KEY_SIZE * count)
            if len(data) == WRAPPED_KEY_SIZE * count:
                return [data[i : i + WRAPPED_KEY_SIZE] for i in range(0, len(data), WRAPPED_KEY_SIZE)]
        elif status == b"\x01":
            size = int.from_bytes(proc.stdout.read(4), "big")
            raise OSError("wrap helper failed: " + proc.stdout.read(size).decode("utf-8", "replace"))
        raise OSError("the wrap helper process stopped")

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            if proc.stdin is not None:
                proc.stdin.close()
            proc.wait(timeout=2)
        except Exception:
            proc.kill()
        finally:
            if proc.stdout is not None:
                proc.stdout.close()


#: The helper processes started so far, kept for the next init (`helpers_for` adds to it).
helpers: list[Helper] = []


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system says)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def helpers_for(count: int) -> list[Helper]:
    """The helpers to use for a roster of `count` (none below `PARALLEL_MIN` or on one core)."""
    wanted = WORKERS if WORKERS is not None else usable_cores() - 1
    if count < PARALLEL_MIN or wanted <= 0 or not sys.executable:
        return []
    while len(helpers) < wanted:
        helpers.append(Helper())
    return [h for h in helpers[:wanted] if not h.broken]


@atexit.register
def close_helpers() -> None:
    """Stop every helper process (at exit; a later `wrap_all` starts them again)."""
    for helper in helpers:
        helper.close()


def _forget_helpers() -> None:
    # In a forked child the helpers' pipes are shared with the parent: never write to them.
    # Keep the objects (closing them here would reap the parent's children); start afresh.
    inherited.extend(helpers)
    helpers.clear()


#: A forked child's copies of the parent's helpers: kept, never used (see `_forget_helpers`).
inherited: list[Helper] = []
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_helpers)


class _Job:
    """One roster being wrapped: the calling thread takes from `lo`, helpers from `hi`."""

    def __init__(self, count: int, parties: int) -> None:
        self.lo = 0
        self.hi = count
        self.parties = parties
        self.closed = False
        self.in_flight = 0
        self.remote_done = 0
        self.failed: list[tuple[int, int]] = []
        self.cond = threading.Condition()


def _feed(job: _Job, helper: Helper, key: bytes, points: Callable[[int, int], list[bytes]], out: list) -> None:
    if not helper.lock.acquire(blocking=False):  # another init in another thread has it
        return
    try:
        try:
            helper.start()  # the calling thread is already wrapping meanwhile
        except Exception:
            helper.broken = True
            helper.close()
            return
        while True:
            with job.cond:
                remaining = job.hi - job.lo
                if job.closed or remaining < 2 * _MIN_CHUNK:
                    return
                size = min(remaining // (2 * job.parties), 4096)
                size = max(size, _MIN_CHUNK)
                b = job.hi
                a = job.hi = b - size
                job.in_flight += 1
            try:
                out[a:b] = helper.wrap(key, points(a, b))
            except Exception:
                helper.broken = True
                helper.close()
                with job.cond:
                    job.failed.append((a, b))
                    job.in_flight -= 1
                    job.cond.notify_all()
                return
            with job.cond:
                job.in_flight -= 1
                job.remote_done += b - a
                job.cond.notify_all()
    finally:
        helper.lock.release()


def wrap_all(
    conversation_key: bytes,
    recipients: Sequence[ec.EllipticCurvePublicKey],
    *,
    points: Callable[[int, int], list[bytes]] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[bytes]:
    """`kit.wrap.wrap_many` into a list, on every core for a large roster; the order is the roster's.

    `points(a, b)` gives the 65-byte SEC1 points of `recipients[a:b]` (for the helpers; by
    default they are serialised from the parsed keys). `progress(done, total)` is called at
    each multiple of 256 and once at the end, on one core or several.
    """
    check_key(conversation_key)
    key = bytes(conversation_key)
    total = len(recipients)
    chosen = helpers_for(total)
    if not chosen:
        if progress is None:
            return wrap_block(key, recipients)
        out: list[bytes] = []
        for start in range(0, total, 256):
            out += wrap_block(key, recipients[start : start + 256])
            progress(len(out), total)
        return out

    if points is None:
        points = lambda a, b: [sec1(p) for p in recipients[a:b]]  # noqa: E731
    result: list = [None] * total
    job = _Job(total, len(chosen) + 1)
    for helper in chosen:
        threading.Thread(target=_feed, args=(job, helper, key, points, result), daemon=True).start()
    local_done = 0
    reported = 0
    cond = job.cond
    while True:
        with cond:
            a = job.lo
            b = min(a + _BLOCK, job.hi)
            if a >= b:
                job.closed = True
                break
            job.lo = b
        result[a:b] = wrap_block(key, recipients[a:b])
        local_done += b - a
        time.sleep(0)  # a helper's answer may be waiting: let its thread take the GIL now, not in 5 ms
        if progress is not None:  # the same calls as on one core: each multiple of 256 reached, then the total
            done = local_done + job.remote_done
            while reported + 256 <= done and reported + 256 < total:
                reported += 256
                progress(reported, total)
    with cond:
        while job.in_flight:
            cond.wait()
        failed = list(job.failed)
    for a, b in failed:  # a helper broke: wrap its chunk here
        result[a:b] = wrap_block(key, recipients[a:b])
    if progress is not None:
        while reported + 256 < total:
            reported += 256
            progress(reported, total)
        progress(total, total)
    return result
