"""The `toolkit` command through its runner, and `toolkit serve` as a real server."""
import io
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from click.testing import CliRunner
from docx import Document

from toolkit import catalogue, cli
from toolkit import facilitator as facilitators
from toolkit import workshop as workshops
from toolkit.db import connect


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A throwaway instance folder and database for the CLI."""
    monkeypatch.setenv("TOOLKIT_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("TOOLKIT_DATABASE", str(tmp_path / "cli.db"))
    return tmp_path


def run(*args, input=None):
    result = CliRunner().invoke(cli.main, list(args), input=input, catch_exceptions=False)
    return result


def test_every_command_has_help_with_an_example():
    for name, command in cli.main.commands.items():
        result = run(name, "--help")
        assert result.exit_code == 0, name
        assert "Example: toolkit" in result.output, name


def test_init_is_idempotent(env):
    first = run("init")
    assert first.exit_code == 0
    assert re.search(r"catalogue (\d+) added, 0 updated, 0 unchanged", first.output)
    second = run("init")
    assert "catalogue 0 added, 0 updated" in second.output
    db = connect(env / "cli.db")
    assert db["catalogue_items"].count == len(catalogue.read_seed())


def test_create_facilitator_from_stdin(env):
    result = run("create-facilitator", "--email", "anna@example.org", "--name", "Anna",
                 "--password-stdin", input="a long password\n")
    assert result.exit_code == 0, result.output
    db = connect(env / "cli.db")
    account = facilitators.authenticate(db, "anna@example.org", "a long password")
    assert account and account["password_hash"] != "a long password"


def test_create_facilitator_with_prompts(env):
    result = run("create-facilitator", input="bo@example.org\nBo\nanother long one\nanother long one\n")
    assert result.exit_code == 0, result.output
    assert facilitators.authenticate(connect(env / "cli.db"), "bo@example.org", "another long one")


def test_create_facilitator_refuses_a_short_password(env):
    result = run("create-facilitator", "--email", "a@example.org", "--name", "A", "--password-stdin",
                 input="short\n")
    assert result.exit_code == 1
    assert "password" in result.output


def test_demo_writes_a_full_agenda_and_keeps_the_workshop(env):
    out = env / "demo.docx"
    result = run("demo", "--out", str(out))
    assert result.exit_code == 0, result.output
    code = re.search(r"Demo workshop (\w+) created", result.output).group(1)
    password = re.search(r"with password (\S+)", result.output).group(1)
    db = connect(env / "cli.db")
    assert facilitators.authenticate(db, "demo@example.org", password)
    workshop = workshops.by_code(db, code)
    assert db.execute("SELECT count(*) FROM participants WHERE workshop_id = ?", [workshop["id"]]).fetchone()[0] >= 12
    groups = {row[0] for row in db.execute("SELECT DISTINCT stakeholder_group FROM participants")}
    assert groups == {"companies", "education", "government", "workers", "other"}

    document = Document(io.BytesIO(out.read_bytes()))
    text = "\n".join(p.text for p in document.paragraphs)
    for table in document.tables:
        text += "\n" + "\n".join(cell.text for row in table.rows for cell in row.cells)
    for driver in catalogue.items(db, "nl", "driver"):
        assert driver["title"] in text
    for recommendation in catalogue.items(db, "nl", "recommendation"):
        assert recommendation["title"] in text
    action_table = next(t for t in document.tables
                        if any("Leerrecht" in c.text for r in t.rows for c in r.cells))
    assert len(action_table.rows) - 1 >= 5


def test_demo_in_english(env):
    out = env / "demo-en.docx"
    assert run("demo", "--out", str(out), "--language", "en").exit_code == 0
    text = "\n".join(p.text for p in Document(io.BytesIO(out.read_bytes())).paragraphs)
    assert "Staying competitive" in text


def test_export_writes_the_next_draft(env):
    run("demo", "--out", str(env / "demo.docx"))
    code = connect(env / "cli.db").execute("SELECT code FROM workshops").fetchone()[0]
    result = run("export", code.lower(), "--out", str(env / "again.docx"))
    assert result.exit_code == 0, result.output
    assert "Draft 2 of" in result.output
    assert (env / "again.docx").read_bytes()[:2] == b"PK"
    missing = run("export", "NOPE99", "--out", str(env / "x.docx"))
    assert missing.exit_code == 1 and "No workshop with code NOPE99" in missing.output


def test_export_in_every_format_and_import_elsewhere(env, tmp_path, monkeypatch):
    run("demo", "--out", str(env / "demo.docx"), "--language", "en")
    code = connect(env / "cli.db").execute("SELECT code FROM workshops").fetchone()[0]
    for name, expected in (("agenda.md", "# "), ("actions.csv", "\ufeff"), ("workshop.json", '"format": "toolkit-workshop"')):
        result = run("export", code, "--out", str(env / name))
        assert result.exit_code == 0, result.output
        assert expected in (env / name).read_text("utf-8")
    votes = run("export", code, "--out", str(env / "v.txt"), "--format", "votes-csv")
    assert votes.exit_code == 0 and "Staying competitive" in (env / "v.txt").read_text("utf-8")
    assert run("export", code, "--out", str(env / "x.txt")).exit_code == 1
    # Another installation: a fresh database with its own facilitator.
    monkeypatch.setenv("TOOLKIT_DATABASE", str(tmp_path / "other.db"))
    run("create-facilitator", "--email", "b@example.org", "--name", "B", "--password-stdin", input="a long password\n")
    imported = run("import", str(env / "workshop.json"), "--email", "b@example.org")
    assert imported.exit_code == 0, imported.output
    other = connect(tmp_path / "other.db")
    assert other["actions"].count == 6 and other["workshops"].count == 1
    assert run("import", str(env / "workshop.json"), "--email", "nobody@example.org").exit_code == 1
    (env / "broken.json").write_text('{"format": "something else"}')
    refused = run("import", str(env / "broken.json"), "--email", "b@example.org")
    assert refused.exit_code == 1 and "not a workshop file" in refused.output
    assert other["workshops"].count == 1


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_runs_a_production_server_and_prints_the_setup_link(tmp_path):
    port = _free_port()
    env = {**os.environ, "TOOLKIT_INSTANCE": str(tmp_path / "i"), "TOOLKIT_DATABASE": str(tmp_path / "s.db")}
    server = subprocess.Popen(
        [sys.executable, "-c", "from toolkit.cli import main; main()", "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        lines = [server.stdout.readline(), server.stdout.readline()]
        setup = re.search(r"(http://localhost:\d+/setup/\S+)", lines[0]).group(1)
        assert f"running at http://localhost:{port}" in lines[1]
        for _ in range(50):
            try:
                response = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        assert response.status == 200
        # uvicorn, told to name nobody: the development server would send "Server: Werkzeug/…"
        assert response.headers.get("Server") is None
        page = urllib.request.urlopen(setup.replace("localhost", "127.0.0.1"), timeout=2).read().decode()
        assert 'name="password"' in page
        db = connect(tmp_path / "s.db")
        assert db["catalogue_items"].count == len(catalogue.read_seed())
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_on_a_busy_port_says_so_and_keeps_the_setup_link(tmp_path):
    port = _free_port()
    env = {**os.environ, "TOOLKIT_INSTANCE": str(tmp_path / "i"), "TOOLKIT_DATABASE": str(tmp_path / "s.db")}
    command = [sys.executable, "-c", "from toolkit.cli import main; main()", "serve", "--port", str(port),
               "--public-url", "http://192.0.2.7:8000"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        setup = re.search(r"(http://\S+/setup/(\S+))", first.stdout.readline())
        assert setup.group(1).startswith("http://192.0.2.7:8000/setup/")
        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
        assert second.returncode == 1
        assert f"Cannot listen on 127.0.0.1:{port}" in second.stderr
        assert "Traceback" not in second.stderr
        db = connect(tmp_path / "s.db")
        assert facilitators.setup_token_valid(db, setup.group(2))
    finally:
        first.terminate()
        first.wait(timeout=10)


def _below(pid: int) -> set[int]:
    """The processes whose parent is pid."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.add(int(entry))
            except (OSError, ValueError):
                pass
    return found


def _answers(port: int) -> int:
    for _ in range(100):
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).status
        except OSError:
            time.sleep(0.1)
    return 0


def _can_listen(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as a server binds, past TIME_WAIT
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _until(check, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def _serve_in_two_processes(tmp_path, port: int) -> subprocess.Popen:
    """`toolkit serve` with 2 processes on port, on a fresh database in tmp_path."""
    env = {**os.environ, "TOOLKIT_INSTANCE": str(tmp_path / "i"), "TOOLKIT_DATABASE": str(tmp_path / "s.db")}
    return subprocess.Popen(
        [sys.executable, "-c", "from toolkit.cli import main; main()", "serve", "--port", str(port),
         "--processes", "2"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="several processes need Linux's fork")
def test_serve_runs_several_processes_restarts_one_that_dies_and_ends_with_its_parent(tmp_path):
    import signal

    port = _free_port()
    server = _serve_in_two_processes(tmp_path, port)
    try:
        assert _answers(port) == 200
        assert _until(lambda: len(_below(server.pid)) == 2)
        children = _below(server.pid)
        # Each serves from the same port, so both take connections.
        victim = min(children)
        os.kill(victim, signal.SIGKILL)
        assert _until(lambda: len(_below(server.pid)) == 2 and victim not in _below(server.pid))
        assert _answers(port) == 200
        # Killed outright, the parent leaves no server behind: the port is free again.
        server.kill()
        server.wait(timeout=10)
        assert _until(lambda: _can_listen(port))
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=10)


def test_serve_gives_the_event_loop_the_interpreter_soon(env, monkeypatch):
    """Few Flask threads and quick hand-overs: the loop answering polls waits behind them (benchmarks/load.py)."""
    seen = {}

    class Server:
        def run(self, sockets):
            seen["switch"] = sys.getswitchinterval()

    def bridge(app, threads, **environ):
        seen["threads"] = threads
        return app

    monkeypatch.setattr(cli.serving, "server", lambda *args, **kwargs: Server())
    monkeypatch.setattr(cli.serving, "wsgi_to_asgi", bridge)
    monkeypatch.setattr(cli.documents, "start", lambda *args, **kwargs: None)
    monkeypatch.setattr(cli, "_start_retention", lambda config: None)
    monkeypatch.setattr(cli.serving, "keep_for_good", lambda: None)  # it would freeze the test runner's objects
    before = sys.getswitchinterval()
    try:
        result = run("serve", "--processes", "1", "--port", str(_free_port()))
    finally:
        sys.setswitchinterval(before)
    assert result.exit_code == 0, result.output
    assert seen == {"threads": 2, "switch": pytest.approx(0.001)}
    refused = CliRunner().invoke(cli.main, ["serve", "--threads", "0"])
    assert refused.exit_code == 2 and "--threads" in refused.output and "Traceback" not in refused.output


def _sockets_on(port: int, state: str) -> set[int]:
    """The inodes of the loopback TCP sockets on port (local side) in state (/proc/net/tcp: 01 established, 0A listening)."""
    found = set()
    with open("/proc/net/tcp") as table:
        for line in list(table)[1:]:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
                found.add(int(fields[9]))
    return found


def _inodes_of(pid: int) -> set[int]:
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(int(target[8:-1]))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="several processes need Linux's fork")
def test_serve_spreads_connections_evenly_over_its_processes(tmp_path):
    port = _free_port()
    server = _serve_in_two_processes(tmp_path, port)
    phones = []
    try:
        assert _answers(port) == 200
        assert _until(lambda: len(_below(server.pid)) == 2)
        children = _below(server.pid)
        # A listening socket each: the kernel, not whichever process is quickest to ask, picks
        # the process for a new connection, and a phone keeps its connection all day.
        assert _until(lambda: len(_sockets_on(port, "0A")) == 2)
        assert not _sockets_on(port, "0A") & _inodes_of(server.pid)  # the parent only holds the port
        for _ in range(400):
            phone = socket.create_connection(("127.0.0.1", port))
            phone.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            phones.append(phone)
        for phone in phones:
            assert phone.recv(65536).startswith(b"HTTP/1.1 200")
        held = [len(_sockets_on(port, "01") & _inodes_of(child)) for child in children]
        assert sum(held) == 400 and min(held) >= 140, held
    finally:
        for phone in phones:
            phone.close()
        server.terminate()
        server.wait(timeout=10)


def test_export_to_a_missing_folder_is_refused_before_any_draft(env):
    run("demo", "--out", str(env / "demo.docx"))
    code = connect(env / "cli.db").execute("SELECT code FROM workshops").fetchone()[0]
    result = run("export", code, "--out", str(env / "missing" / "x.docx"))
    assert result.exit_code != 0
    assert connect(env / "cli.db").execute("SELECT max(version) FROM drafts").fetchone()[0] == 1
