"""The served room's start-up banner (learners' addresses, the dashboard, the operator link printed
once) and the operator's `python -m kit room ...` commands against a served room."""

from __future__ import annotations

import argparse
from pathlib import Path

import httpx
import pytest
from sandbox_fixtures import served_sandbox

from kit import room_admin
from kit.sandbox.banner import banner_lines, learner_addresses, machine_addresses

TOKEN = "op_banner-test-token-0123456789abcdef"


def test_a_wildcard_host_lists_every_non_loopback_address() -> None:
    machine = ["127.0.0.1", "192.168.1.20", "10.0.0.7", "169.254.3.4", "192.168.1.20", "not-an-address"]
    assert learner_addresses("0.0.0.0", 8000, machine=machine) == ["http://192.168.1.20:8000", "http://10.0.0.7:8000"]
    assert learner_addresses("::", 8000, machine=["127.0.0.1", "fd00::5"]) == ["http://[fd00::5]:8000"]


def test_loopback_when_bound_to_loopback_or_nothing_else_exists() -> None:
    assert learner_addresses("127.0.0.1", 8000, machine=["192.168.1.20"]) == ["http://127.0.0.1:8000"]
    assert learner_addresses("0.0.0.0", 8001, machine=["127.0.0.1"]) == ["http://127.0.0.1:8001"]
    assert learner_addresses("192.168.1.20", 8000) == ["http://192.168.1.20:8000"]


def test_the_machine_addresses_are_ipv4_addresses() -> None:
    import ipaddress

    found = machine_addresses()
    assert found and all(ipaddress.ip_address(a).version == 4 for a in found)


def test_the_banner_holds_the_operator_token_once_in_the_operator_link() -> None:
    lines = banner_lines(host="0.0.0.0", port=8000, operator_token=TOKEN, state="SQLite file room.sqlite",
                         rate_limit="300 per user", token_file="room.sqlite.operator-token", machine=["192.168.1.20"])  # fmt: skip
    text = "\n".join(lines)
    assert text.count(TOKEN) == 1
    assert "http://127.0.0.1:8000/#operator=" + TOKEN in text  # in the fragment: never sent to the server
    assert "    http://192.168.1.20:8000" in lines and "dashboard for the projector: http://192.168.1.20:8000/" in text
    assert "room.sqlite.operator-token" in text
    loop = "\n".join(banner_lines(host="127.0.0.1", port=8000, operator_token=TOKEN, state="memory", rate_limit="off", token_file=None))
    assert "http://127.0.0.1:8000" in loop and "--host 0.0.0.0" in loop


def test_a_room_served_on_every_address_prints_them_and_its_links_work(tmp_path: Path) -> None:
    with served_sandbox(tmp_path / "server.log", db=tmp_path / "room.sqlite", rate_limit="room", extra=("--host", "0.0.0.0")) as server:
        banner = server.banner_for_host("0.0.0.0")
        expected = learner_addresses("0.0.0.0", server.port)
        assert banner["learners"] == expected and banner["dashboard"] == expected[0] + "/"
        assert "operator_token" not in banner and server.operator_token not in str(banner)
        text = server.log_text()
        assert text.count(server.operator_token) == 1
        for url in expected:
            assert f"    {url}" in text
        with httpx.Client(timeout=10) as http:
            health = http.get(expected[0] + "/sandbox/health")  # reachable on the address learners are given
            assert health.status_code == 200 and health.json()["status"] == "ok"
            page = http.get(banner["dashboard"])
            assert page.status_code == 200 and "xchat-kit room" in page.text
            status = http.get(server.url + "/sandbox/operator/status", headers={"authorization": f"Bearer {server.operator_token}"})
            assert status.status_code == 200 and status.json()["data"]["operator"] is True
        assert (tmp_path / "room.sqlite.operator-token").read_text().strip() == server.operator_token


# ----------------------------------------------------------------------------- python -m kit room ...


def room(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    room_admin.add_commands(parser.add_subparsers(dest="command"))
    return parser.parse_args(["room", *argv])


def test_the_room_commands_operate_a_served_room(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "room.sqlite"
    with served_sandbox(tmp_path / "server.log", db=db) as server:
        common = ("--server", server.url, "--db", str(db))
        with httpx.Client(base_url=server.url) as http:
            ada = http.post("/sandbox/join", json={"name": "Ada"}).json()["data"]
            grace = http.post("/sandbox/join", json={"name": "grace"}).json()["data"]
        assert room_admin.run(room("status", *common)) == 0
        out = capsys.readouterr().out
        assert "2 users, 0 conversations" in out and "Ada" in out and grace["id"] in out
        assert room_admin.run(room("free-name", "ada", *common)) == 0  # by name, any case
        assert "freed the name of Ada" in capsys.readouterr().out
        assert room_admin.run(room("revoke", grace["id"], *common)) == 0  # by id
        assert "revoked grace" in capsys.readouterr().out
        with httpx.Client(base_url=server.url) as http:
            r = http.get("/sandbox/room/members", headers={"authorization": f"Bearer {ada['access_token']}"})
            assert r.status_code == 401 and "kit.join" in r.json()["detail"]
        assert room_admin.run(room("reset", *common), ask=lambda prompt: "no") == 1
        assert "not reset" in capsys.readouterr().out
        assert room_admin.run(room("reset", *common), ask=lambda prompt: "reset") == 0
        assert "is empty" in capsys.readouterr().out
        assert httpx.get(server.url + "/sandbox/health").json()["users"] == 0
        assert room_admin.run(room("free-name", "nobody", *common)) == 2
        assert "nobody in the room" in capsys.readouterr().err
        wrong = tmp_path / "wrong-token"
        wrong.write_text("op_not-this-rooms-token-0000000000\n")
        assert room_admin.run(room("status", "--server", server.url, "--token-file", str(wrong))) == 2
        err = capsys.readouterr().err
        assert "refused the operator token" in err and "op_not-this" not in err
        output = capsys.readouterr()
        assert server.operator_token not in output.out + output.err  # never printed


def test_the_room_commands_say_what_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert room_admin.run(room("status", "--db", str(tmp_path / "none.sqlite"))) == 2
    assert "cannot read the operator token" in capsys.readouterr().err
    token = tmp_path / "token"
    token.write_text("op_some-token-000000000000000\n")
    from sandbox_fixtures import free_port

    assert room_admin.run(room("status", "--server", f"http://127.0.0.1:{free_port()}", "--token-file", str(token))) == 2
    assert "cannot reach the room" in capsys.readouterr().err
    assert room_admin.run(room("status", "--db", ":memory:")) == 2
    assert "--token-file" in capsys.readouterr().err
