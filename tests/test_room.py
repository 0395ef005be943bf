"""kit.room: joining a workshop room by name, the state file, resuming, and errors that say what to do.

Offline rooms (`kit.join(None, ...)`) run on the in-process sandbox; saved state and resuming run
against a served sandbox (the module's `served` fixture), since offline nothing is saved.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sandbox_fixtures import ServedSandbox, free_port, served  # noqa: F401  (fixture)

import kit
from kit import room as kroom
from kit.room import state as kroom_state  # where join asks for the passphrase
from kit.sandbox import Sandbox

PW = "a passphrase for the room"
OP_TOKEN = "op_test-room-client-operator-0123456789"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def served_op(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedSandbox]:
    from sandbox_fixtures import served_sandbox

    d = tmp_path_factory.mktemp("room-op")
    with served_sandbox(d / "server.log", db=d / "room.sqlite") as server:
        yield server


@pytest.fixture(autouse=True)
def _close_rooms(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every room a test joins is closed after it (an open HTTP pool is a ResourceWarning)."""
    made: list[kit.Room] = []
    real = kroom.join

    def tracked(*args: object, **kwargs: object) -> kit.Room:
        room = real(*args, **kwargs)  # type: ignore[arg-type]
        made.append(room)
        return room

    monkeypatch.setattr(kroom, "join", tracked)
    monkeypatch.setattr(kit, "join", tracked)
    yield
    for room in made:
        room.close()


def _operator(server: ServedSandbox, action: str, body: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(
        server.url + "/sandbox/operator/" + action,
        headers={"Authorization": "Bearer " + server.operator_token},
        json=body,
        timeout=10,
    )


def _name() -> str:
    return "learner-" + os.urandom(4).hex()


# ----------------------------------------------------------------------------- offline


def test_offline_join_saves_nothing_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    room = kit.join(None, name="ada")
    assert "offline" in capsys.readouterr().out
    assert room.state_path is None and room.save() is None
    assert list(tmp_path.iterdir()) == []
    assert isinstance(room, kit.Room) and isinstance(room.client, kit.Client)
    assert room.client.user_id == room.user_id == room.identity.user_id
    assert room.check().ok
    assert "ada" in repr(room) and "token" not in repr(room).lower()


def test_offline_pair_finds_by_name_and_reads_each_other() -> None:
    ada = kit.join(None, name="ada", quiet=True)
    grace = kit.join(None, name="Grace", sandbox=ada.client.sandbox, quiet=True)
    theirs = ada.find(" grace ")  # names ignore case and surrounding spaces
    assert theirs.user_id == grace.user_id and kit.fingerprint(theirs.public_key) == grace.identity.fingerprint
    assert ada.comparison_code(theirs) == grace.comparison_code(grace.find("ada"))
    assert ada.verify(theirs, code=grace.comparison_code(grace.find("ada"))).state == "verified"
    ada.start(theirs)
    cid = ada.conversation_with(theirs)
    ada.send(cid, "hello grace")
    grace.send(cid, "hello ada")
    assert [m.text for m in grace.messages(cid)] == ["hello grace", "hello ada"]
    assert [m.text for m in ada.messages(cid.path)] == ["hello grace", "hello ada"]
    assert [m.name for m in ada.members()] == ["ada", "Grace"]


def test_a_rotation_keeps_older_messages_readable() -> None:
    ada = kit.join(None, name="ada", quiet=True)
    grace = kit.join(None, name="grace", sandbox=ada.client.sandbox, quiet=True)
    theirs = ada.find("grace")
    first = ada.start(theirs)
    cid = ada.conversation_with(theirs)
    ada.send(cid, "before")
    ada.start(theirs, version=str(int(first.conversation_key_version) + 1))
    ada.catch_up(cid)
    ada.send(cid, "after")
    msgs = grace.messages(cid)
    assert [m.text for m in msgs] == ["before", "after"]
    assert msgs[0].conversation_key_version != msgs[1].conversation_key_version


def test_before_the_init_there_is_nothing_to_read_and_send_says_who_starts() -> None:
    ada = kit.join(None, name="ada", quiet=True)
    kit.join(None, name="grace", sandbox=ada.client.sandbox, quiet=True)
    cid = ada.conversation_with(ada.find("grace"))
    assert ada.catch_up(cid) == [] and ada.messages(cid) == []
    with pytest.raises(kit.KitError, match=r"has no key yet: one of you starts it \(room.start"):
        ada.send(cid, "too early")


def test_demo_seed_is_offline_only() -> None:
    one = kit.join(None, name="ada", demo_seed="ada (demo only)", quiet=True)
    two = kit.join(None, name="ada", demo_seed="ada (demo only)", quiet=True)
    assert one.identity.fingerprint == two.identity.fingerprint  # same seed, same keys: stable lesson outputs
    with pytest.raises(kroom.RoomError, match="offline lessons only"):
        kit.join("http://127.0.0.1:9", name="ada", demo_seed="x", passphrase=PW)


def test_find_says_what_to_do_when_nobody_has_the_name() -> None:
    ada = kit.join(None, name="ada", quiet=True)
    with pytest.raises(kit.NotFound, match="nobody called 'grace' is in the room yet.*run this cell again"):
        ada.find("grace")


# ----------------------------------------------------------------------------- errors


def test_name_taken_gives_the_suggestion() -> None:
    ada = kit.join(None, name="ada", quiet=True)
    with pytest.raises(kroom.NameTaken) as caught:
        kit.join(None, name=" ADA ", sandbox=ada.client.sandbox, quiet=True)
    err = caught.value
    assert isinstance(err, kit.Conflict) and isinstance(err, kit.KitError) and err.status == 409
    assert err.suggestion == "ADA2" and "'ADA2'" in str(err) and "\n" not in str(err)


@pytest.mark.parametrize("name", ["", "   ", None, 7])
def test_an_empty_or_non_text_name_is_refused_before_any_request(name: object) -> None:
    with pytest.raises(kroom.RoomError, match="1 to 32 printable characters"):
        kit.join(None, name=name)  # type: ignore[arg-type]


def test_a_name_the_room_refuses_is_its_400() -> None:
    with pytest.raises(kit.InvalidRequest, match="32 printable characters"):
        kit.join(None, name="x" * 40, quiet=True)


def test_an_unreachable_server_says_what_to_check(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    with pytest.raises(kroom.ServerUnreachable) as caught:
        kit.join(url, name="ada", state_dir=tmp_path, passphrase=PW)
    said = str(caught.value)
    for hint in ("address on the board", "same Wi-Fi", "client isolation", "firewall"):
        assert hint in said, said
    assert "\n" not in said and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("url", ["", "http://", "ftp://host:21", "   "])
def test_an_address_that_is_not_one_is_named(url: str, tmp_path: Path) -> None:
    with pytest.raises(kroom.RoomError, match="address"):
        kit.join(url, name="ada", state_dir=tmp_path, passphrase=PW)


def test_an_address_without_http_is_read_as_http() -> None:
    assert kroom.state_file("192.168.1.20:8000", "Ada").name == ".xchat-room-ada-192.168.1.20-8000.json"
    assert kroom.state_file("http://192.168.1.20:8000/", " ADA ") == kroom.state_file("192.168.1.20:8000", "ada")
    assert kroom.state_file("http://10.0.0.2:8000", "ada") != kroom.state_file("http://10.0.0.3:8000", "ada")
    assert kroom.state_file("h:1", "a b") != kroom.state_file("h:1", "a_b")  # lossy slugs keep a hash


def test_the_state_files_are_ignored_by_git() -> None:
    path = ".xchat-room-ada-192.168.1.20-8000.json"
    out = subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO, check=False)
    assert out.returncode == 0, f"{path} is not in .gitignore"
    assert subprocess.run(["git", "check-ignore", "-q", f"notebooks/{path}"], cwd=REPO, check=False).returncode == 0


def test_a_revoked_token_says_the_operator_reset_and_how_to_start_over() -> None:
    sandbox = Sandbox(operator_token=OP_TOKEN)
    room = kit.join(None, name="ada", sandbox=sandbox, quiet=True)
    root = kit.connect(sandbox=sandbox, quiet=True)
    answer = root.http.post(f"/sandbox/operator/users/{room.user_id}/revoke", headers={"Authorization": f"Bearer {OP_TOKEN}"})
    assert answer.status_code == 200, answer.text
    check = room.check()
    assert not check.ok and check.message.startswith("✗") and "fresh=True" in check.message and "operator" in check.message
    with pytest.raises(kit.Unauthorized, match="kit.join"):  # the server's own 401 says it too
        room.client.get_public_keys(room.user_id)


def test_the_passphrase_is_asked_when_not_given(served: ServedSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr(kroom_state, "ask_passphrase", lambda prompt: asked.append(prompt) or PW)
    name = _name()
    kit.join(served.url, name=name, state_dir=tmp_path, quiet=True)
    again = kit.join(served.url, name=name, state_dir=tmp_path, quiet=True)
    assert len(asked) == 2 and "choose a passphrase" in asked[0] and again.check().ok
    monkeypatch.setattr(kroom_state, "ask_passphrase", lambda prompt: "")
    with pytest.raises(kroom.RoomError, match="non-empty"):
        kit.join(served.url, name=_name(), state_dir=tmp_path, quiet=True)


# ----------------------------------------------------------------------------- the state file, resuming


def test_the_state_file_holds_no_secret_in_the_clear(served: ServedSandbox, tmp_path: Path) -> None:
    room = kit.join(served.url, name=_name(), state_dir=tmp_path, passphrase=PW, quiet=True)
    path = room.state_path
    assert path is not None and path.parent == tmp_path and path.name.startswith(".xchat-room-")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text("utf-8")
    state = json.loads(text)
    assert state["kind"] == kroom.STATE_KIND and state["user_id"] == room.user_id and state["server"] == served.url
    token = room.client.http.auth._token  # type: ignore[union-attr]
    blob = room.identity.export_keys()
    for secret in (token, blob[:32].hex(), blob[32:].hex(), base64.b64encode(blob).decode(), PW):
        assert secret not in text
    assert "access_token" not in text and "Bearer" not in text
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind


def test_join_again_resumes_with_the_same_id_keys_and_trust(served: ServedSandbox, tmp_path: Path) -> None:
    ada = kit.join(served.url, name=_name(), state_dir=tmp_path, passphrase=PW, quiet=True)
    grace = kit.join(served.url, name=_name(), state_dir=tmp_path, passphrase=PW, quiet=True)
    theirs = ada.find(grace.name)
    ada.verify(theirs, code=grace.comparison_code(grace.find(ada.name)))
    ada.start(theirs)
    cid = ada.conversation_with(theirs)
    ada.send(cid, "before the restart")
    ada.close()
    back = kit.join(served.url, name=ada.name.upper(), state_dir=tmp_path, passphrase=PW, quiet=True)
    assert back.user_id == ada.user_id and back.identity.fingerprint == ada.identity.fingerprint
    assert back.trust.check(theirs).state == "verified"
    assert [m.text for m in back.messages(cid)] == ["before the restart"]
    assert back.check().ok


def test_a_wrong_passphrase_is_named(served: ServedSandbox, tmp_path: Path) -> None:
    name = _name()
    kit.join(served.url, name=name, state_dir=tmp_path, passphrase=PW, quiet=True)
    with pytest.raises(kroom.WrongPassphrase) as caught:
        kit.join(served.url, name=name, state_dir=tmp_path, passphrase="not it", quiet=True)
    assert isinstance(caught.value, kit.DecryptionError)
    assert "passphrase does not open" in str(caught.value) and "fresh=True" in str(caught.value)


def test_a_deleted_state_file_gives_name_taken_with_what_to_do(served: ServedSandbox, tmp_path: Path) -> None:
    name = _name()
    room = kit.join(served.url, name=name, state_dir=tmp_path, passphrase=PW, quiet=True)
    assert room.state_path is not None
    room.state_path.unlink()
    with pytest.raises(kroom.NameTaken, match="state file .* is not in this folder: restore it, or ask the operator to free the name"):
        kit.join(served.url, name=name, state_dir=tmp_path, passphrase=PW, quiet=True)


def test_a_damaged_state_file_is_named(served: ServedSandbox, tmp_path: Path) -> None:
    name = _name()
    room = kit.join(served.url, name=name, state_dir=tmp_path, passphrase=PW, quiet=True)
    assert room.state_path is not None
    room.state_path.write_text("{not json", "utf-8")
    with pytest.raises(kroom.RoomStateError, match="cannot be read"):
        kit.join(served.url, name=name, state_dir=tmp_path, passphrase=PW, quiet=True)
    room.state_path.write_text(json.dumps({"kind": "something else"}), "utf-8")
    with pytest.raises(kroom.RoomStateError, match="not a room state file"):
        kit.join(served.url, name=name, state_dir=tmp_path, passphrase=PW, quiet=True)


def test_after_a_reset_join_says_start_over_and_fresh_does(served_op: ServedSandbox, tmp_path: Path) -> None:
    room = kit.join(served_op.url, name="ada", state_dir=tmp_path, passphrase=PW, quiet=True)
    assert _operator(served_op, "reset", {"confirm": "reset"}).status_code == 200
    with pytest.raises(kroom.RoomReset) as caught:
        kit.join(served_op.url, name="ada", state_dir=tmp_path, passphrase=PW, quiet=True)
    assert isinstance(caught.value, kit.Unauthorized) and "fresh=True" in str(caught.value)
    assert "reset the room" in str(caught.value)
    again = kit.join(served_op.url, name="ada", state_dir=tmp_path, passphrase=PW, fresh=True, quiet=True)
    assert again.user_id != room.user_id and again.check().ok
    resumed = kit.join(served_op.url, name="ada", state_dir=tmp_path, passphrase=PW, quiet=True)
    assert resumed.user_id == again.user_id  # the fresh state replaced the old file


def test_fresh_after_a_revoke_says_to_ask_for_the_name(served_op: ServedSandbox, tmp_path: Path) -> None:
    room = kit.join(served_op.url, name="bea", state_dir=tmp_path, passphrase=PW, quiet=True)
    assert _operator(served_op, f"users/{room.user_id}/revoke").status_code == 200
    with pytest.raises(kroom.NameTaken, match="ask the operator to free the name"):
        kit.join(served_op.url, name="bea", state_dir=tmp_path, passphrase=PW, fresh=True, quiet=True)
    assert _operator(served_op, f"users/{room.user_id}/free-name").status_code == 200
    again = kit.join(served_op.url, name="bea", state_dir=tmp_path, passphrase=PW, fresh=True, quiet=True)
    assert again.user_id != room.user_id


def test_a_state_file_for_another_name_is_refused(served: ServedSandbox, tmp_path: Path) -> None:
    room = kit.join(served.url, name=_name(), state_dir=tmp_path, passphrase=PW, quiet=True)
    assert room.state_path is not None
    other = _name()
    target = kroom.state_file(served.url, other, tmp_path)
    target.write_text(room.state_path.read_text("utf-8"), "utf-8")
    with pytest.raises(kroom.RoomStateError, match="pass the address and name you joined with"):
        kit.join(served.url, name=other, state_dir=tmp_path, passphrase=PW, quiet=True)
