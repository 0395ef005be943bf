"""Load: the served sandbox on SQLite, driven by 60 concurrent clients over loopback.

Each client creates its account, registers keys, races its partner to initialize their
conversation with the same key version (exactly one wins; the other gets 409, reads the
winner's key change and carries on), replays its init and its last message (the replay answer,
not a second event), and sends messages while its partner does too. Afterwards every
acknowledged event is served exactly once with unique, increasing sequence ids, nobody saw a
5xx, and the figures go to benchmarks/reliability.json.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from kit.ids import ConversationId
from sandbox_fixtures import served_sandbox
from tests.reliability_helpers import (
    LoadRun,
    Recorder,
    check_database,
    record_benchmark,
    run_load,
    verify_conversations,
)

CLIENTS = 60
MESSAGES = 5


def test_sixty_concurrent_clients(tmp_path: Path) -> None:
    db = tmp_path / "room.sqlite"
    recorder = Recorder()
    with served_sandbox(tmp_path / "server.log", db=str(db)) as served:
        run = LoadRun(served.url, clients=CLIENTS, recorder=recorder, prefix="load_", messages=MESSAGES)
        seconds, threads = run_load(run, timeout=60)
        assert not any(t.is_alive() for t in threads), "a client was still running after 60 s"
        assert not run.errors, run.errors[:5]
        requests = sum(recorder.statuses.values())

        # no 5xx, no dropped connection
        assert recorder.transport_errors == 0
        assert not [s for s in recorder.statuses if s >= 500], recorder.statuses

        # the race: in every pair exactly one init won, the other was refused with 409
        assert len(run.init_outcomes) == CLIENTS // 2
        for conv, outcomes in run.init_outcomes.items():
            assert sorted(outcomes) == ["409", "won"], (conv, outcomes)

        tokens = {
            ConversationId.pair(run.users[2 * k][0].id, run.users[2 * k + 1][0].id).canonical: run.users[2 * k][
                0
            ].access_token
            for k in range(CLIENTS // 2)
        }
        counts = verify_conversations(run, tokens)
        assert counts == {
            "conversations": CLIENTS // 2,
            "key_changes": CLIENTS // 2,
            "messages": CLIENTS * MESSAGES,
            "served_messages": CLIENTS * MESSAGES,
        }
        log = served.log_text()
    stats = check_database(db)
    assert stats["events"] == CLIENTS // 2 + CLIENTS * MESSAGES
    assert "Traceback" not in log and "sandbox error" not in log

    statuses = Counter({str(k): v for k, v in sorted(recorder.statuses.items())})
    figures = {
        "clients": CLIENTS,
        "requests": requests,
        "seconds": round(seconds, 3),
        "requests_per_s": round(requests / seconds, 1),
        "p50_ms": round(recorder.percentile(50) * 1000, 1),
        "p99_ms": round(recorder.percentile(99) * 1000, 1),
        "max_ms": round(max(recorder.latencies) * 1000, 1),
        "statuses": dict(statuses),
        "events_stored": stats["events"],
        "store": "SQLite file, WAL, synchronous=FULL",
    }
    record_benchmark({"load": figures})
    print(figures)
