"""Peak memory of one large init, in a fresh interpreter (run by benchmarks.cases.row_memory).

    python -m benchmarks.memory_probe kit|chatxdk ROSTER.json

Everything the call needs is loaded and parsed first; then the peak-RSS counter (VmHWM) is
reset through /proc/self/clear_refs, the init runs once on one core, and the growth of the peak
over the RSS just before the call is printed with the size of the output, as one JSON line.
"""

from __future__ import annotations

import base64
import gc
import json
import resource
import sys
from pathlib import Path


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def main() -> None:
    which, roster_path = sys.argv[1], sys.argv[2]
    data = json.loads(Path(roster_path).read_text())
    blob = base64.b64decode(data["sender"])
    records = data["keys"]
    del data
    if which == "kit":
        import kit
        import kit.wrap.workers

        kit.wrap.workers.WORKERS = 0
        sender = kit.Identity.import_keys(blob, user_id=records[0]["user_id"], version=records[0]["public_key_version"])
        keys = [kit.PublicKeys.from_api(r, user_id=r["user_id"]) for r in records[1:]]
        for pk in keys:
            pk.identity_key  # noqa: B018
            pk.verify_binding()

        def call() -> object:
            return kit.prepare_key_init(sender, keys, "g1")

        def size(init: object) -> int:
            return len(json.dumps(init.body))  # type: ignore[attr-defined]
    else:
        from chat_xdk import Chat

        chat = Chat()
        chat.import_keys(blob, version=records[0]["public_key_version"])
        chat.set_identity(records[0]["user_id"], records[0]["public_key_version"])
        entries = [{"user_id": r["user_id"], "public_key": r["public_key"], "key_version": r["public_key_version"]} for r in records]

        def call() -> object:
            return chat.prepare_conversation_key_change(entries, conversation_id="g1")

        def size(res: object) -> int:
            plain = {k: (base64.b64encode(v).decode() if isinstance(v, (bytes, bytearray)) else v) for k, v in res.items()}  # type: ignore[attr-defined]
            return len(json.dumps(plain))

    gc.collect()
    reset = _reset_peak()
    before = _status("VmRSS")
    if not reset:  # fall back to the process-wide peak (an over-estimate if setup peaked higher)
        before_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result = call()
    peak = _status("VmHWM") if reset else max(before_peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    print(
        json.dumps(
            {
                "participants": len(records),
                "rss_before": before,
                "peak": peak,
                "peak_growth": peak - before,
                "output_bytes": size(result),
                "peak_reset": reset,
            }
        )
    )


if __name__ == "__main__":
    main()
