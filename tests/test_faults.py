"""When storage fails: a full disk or a read-only database gives a clear 503 and harms nothing,
and a server killed at any moment loses no acknowledged vote and leaves an intact database.

Every fault here is SQLite's own: `PRAGMA max_page_count` at the current size makes the next
page the database needs fail with SQLITE_FULL; `query_only` and `mode=ro` make writes fail
with SQLITE_READONLY.
"""
import http.client
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
import sqlite_utils
from click.testing import CliRunner
from conftest import at_step, english_cli, join

import toolkit.db
from toolkit import cli
from toolkit import workshop as workshops
from toolkit.i18n import gettext_for
from toolkit.web import close_kept_connection

STORAGE_MESSAGE = ("The server cannot save right now, so nothing you sent was saved. "
                   "Please try again in a moment, or tell the facilitator.")
LONG_COMMENT = "Een opmerking die ruimte inneemt. " * 28  # under the 1000-character limit


def _drivers(db, workshop):
    return [item["id"] for item in workshops.items(db, workshop, kinds=("driver",))]


def _healthy(path):
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


def _full_disk(monkeypatch):
    """Every new connection may not grow the database beyond its current size."""
    real = toolkit.db.connect

    def connect(path):
        db = real(path)
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")
        return db

    monkeypatch.setattr(toolkit.db, "connect", connect)
    close_kept_connection()  # the server keeps one per thread: the next request opens a new one


def _read_only_pragma(monkeypatch):
    real = toolkit.db.connect

    def connect(path):
        db = real(path)
        db.execute("PRAGMA query_only = ON")
        return db

    monkeypatch.setattr(toolkit.db, "connect", connect)
    close_kept_connection()  # the server keeps one per thread: the next request opens a new one


def _read_only_file(monkeypatch):
    def connect(path):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        db = sqlite_utils.Database(conn)
        db.execute("PRAGMA busy_timeout=5000")
        return db

    monkeypatch.setattr(toolkit.db, "connect", connect)
    close_kept_connection()  # the server keeps one per thread: the next request opens a new one


def _assert_storage_answer(response, lang, htmx):
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    page = response.get_data(as_text=True)
    assert gettext_for(lang)(STORAGE_MESSAGE) in page
    if htmx:
        assert response.headers["HX-Retarget"] == "#messages"
        assert "<html" not in page
    else:
        assert f'<html lang="{lang}">' in page


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("htmx", [False, True])
def test_a_full_disk_answers_503_and_keeps_everything_saved_before(app, db, workshop, monkeypatch, lang,
                                                                   htmx, caplog):
    workshop = at_step(db, workshop, "drivers")
    driver = _drivers(db, workshop)[0]
    person = join(app, workshop)
    if lang == "en":
        person.post("/language", {"lang": "en"})
    assert person.post(f"/w/{workshop['code']}/items/{driver}/dots", {"dots": "2"}).status_code == 303
    _full_disk(monkeypatch)
    url = f"/w/{workshop['code']}/items/{driver}/comments"
    answered = []
    for n in range(40):  # comments fill the free room on the database's pages, then it needs one more
        response = person.post(url, {"body": f"{n} {LONG_COMMENT}", "request_token": f"c{n}"}, htmx=htmx)
        if response.status_code != (200 if htmx else 303):
            break
        answered.append(n)
    _assert_storage_answer(response, lang, htmx)
    assert "SQLITE_FULL" in caplog.text
    monkeypatch.undo()
    close_kept_connection()

    _healthy(app.config["DATABASE"])
    stored = [row["body"] for row in db.query("SELECT body FROM comments ORDER BY id")]
    assert stored == [f"{n} {LONG_COMMENT}".strip() for n in answered]
    assert db.execute("SELECT dots FROM votes WHERE item_id = ?", [driver]).fetchone()[0] == 2
    # Room again: the same form goes through, once.
    again = person.post(url, {"body": f"{n} {LONG_COMMENT}", "request_token": f"c{n}"}, htmx=htmx)
    assert again.status_code == (200 if htmx else 303)
    assert db.execute("SELECT count(*) FROM comments").fetchone()[0] == len(answered) + 1
    _healthy(app.config["DATABASE"])


@pytest.mark.parametrize("make_read_only", [_read_only_pragma, _read_only_file])
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_read_only_database_answers_503_and_changes_nothing(app, db, workshop, monkeypatch, lang,
                                                              make_read_only):
    workshop = at_step(db, workshop, "drivers")
    driver = _drivers(db, workshop)[0]
    person = join(app, workshop)
    if lang == "en":
        person.post("/language", {"lang": "en"})
    url = f"/w/{workshop['code']}/items/{driver}/dots"
    assert person.post(url, {"dots": "1"}).status_code == 303
    make_read_only(monkeypatch)
    for htmx in (False, True):
        _assert_storage_answer(person.post(url, {"dots": "3"}, htmx=htmx), lang, htmx)
    monkeypatch.undo()
    close_kept_connection()

    _healthy(app.config["DATABASE"])
    assert db.execute("SELECT dots FROM votes WHERE item_id = ?", [driver]).fetchone()[0] == 1
    assert person.post(url, {"dots": "3"}).status_code == 303
    assert db.execute("SELECT dots FROM votes WHERE item_id = ?", [driver]).fetchone()[0] == 3


def test_other_database_errors_stay_server_errors(app, db, workshop, monkeypatch):
    from toolkit import vote

    workshop = at_step(db, workshop, "drivers")
    driver = _drivers(db, workshop)[0]
    person = join(app, workshop)

    def broken(*_args, **_kwargs):
        raise sqlite3.OperationalError("no such column: dotz")

    monkeypatch.setattr(vote, "set_dots", broken)
    with pytest.raises(sqlite3.OperationalError):  # a bug surfaces in tests, as before
        person.post(f"/w/{workshop['code']}/items/{driver}/dots", {"dots": "1"})
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = person.post(f"/w/{workshop['code']}/items/{driver}/dots", {"dots": "1"})
    assert response.status_code == 500 and "Retry-After" not in response.headers


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    """A CLI over a database holding one workshop."""
    return english_cli(tmp_path, monkeypatch)


@pytest.mark.parametrize("where", ["missing-folder", "folder-is-a-file", "is-a-folder", "no-file-system"])
def test_backup_to_an_unusable_destination_is_a_clear_error(cli_env, where):
    (cli_env / "a-file").write_text("x")
    dest = {"missing-folder": cli_env / "nowhere" / "b.db", "folder-is-a-file": cli_env / "a-file" / "b.db",
            "is-a-folder": cli_env, "no-file-system": "/proc/toolkit-backup.db"}[where]
    result = CliRunner().invoke(cli.main, ["backup", str(dest)])
    assert result.exit_code != 0, result.output
    assert "Error: " in result.output and "Traceback" not in result.output
    assert str(dest) in result.output or str(os.path.dirname(dest)) in result.output
    assert not [p for p in cli_env.iterdir() if p.name.endswith(".partial")]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write anywhere")
def test_backup_into_a_read_only_folder_is_a_clear_error(cli_env):
    folder = cli_env / "locked"
    folder.mkdir(mode=0o500)
    try:
        result = CliRunner().invoke(cli.main, ["backup", str(folder / "b.db")])
    finally:
        folder.chmod(0o700)
    assert result.exit_code == 1 and "Cannot write the backup" in result.output
    assert list(folder.iterdir()) == []


# --- The server killed mid-vote -------------------------------------------------------------

KILLS = 5
VOTERS = 6
KILL_DOTS = 20  # the workshop's budget: three drivers at up to 5 dots never run out of dots


class _Server:
    """`toolkit serve` on one database, started again on a fresh port after every kill."""

    def __init__(self, folder):
        self.folder = folder
        self.process = None
        self.base = None
        self.log = open(folder / "server.log", "a")

    def start(self):
        from conftest import free_port
        from test_concurrency import ROOT, Browser

        port = free_port()
        env = {**os.environ, "TOOLKIT_INSTANCE": str(self.folder / "instance"),
               "TOOLKIT_DATABASE": str(self.folder / "k.db"), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from toolkit.cli import main; main()", "serve", "--port", str(port),
             "--threads", "8"], env=env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            assert self.process.poll() is None, (self.folder / "server.log").read_text()
            try:
                if Browser(self.base).send("GET", "/")[0] == 200:
                    return
            except OSError:
                pass
            assert time.monotonic() < deadline, (self.folder / "server.log").read_text()
            time.sleep(0.05)

    def kill(self):
        self.process.send_signal(getattr(signal, "SIGKILL", signal.SIGTERM))
        self.process.wait(timeout=10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.log.close()


def _voter(server, browser, code, items, sent, stop, rng, htmx, failures):
    """Set random dots on random items until stopped; every request sent is recorded in order."""
    from urllib.error import URLError

    while not stop.is_set():
        item, dots = rng.choice(items), rng.randint(0, 5)
        browser.base = server.base
        try:
            status, _, body = browser.send("POST", f"/w/{code}/items/{item}/dots",
                                           {"csrf_token": browser.token, "dots": str(dots)}, htmx=htmx)
        except (ConnectionRefusedError, URLError) as error:
            if isinstance(getattr(error, "reason", error), ConnectionRefusedError):
                time.sleep(0.01)  # nobody listening: this request never reached a server
                continue
            sent.append((item, dots, False))  # sent; the server may have died before or after saving
            continue
        except (OSError, http.client.HTTPException):  # reset, or an answer cut off by the kill
            sent.append((item, dots, False))
            continue
        acknowledged = 200 <= status < 400
        sent.append((item, dots, acknowledged))
        if not acknowledged:
            failures.append(f"{status}: {body[:200]!r}")


def _allowed(sent, items):
    """Per item, the dots that may be stored: the last acknowledged vote, or any sent after it."""
    allowed = {}
    for item in items:
        mine = [(dots, ack) for i, dots, ack in sent if i == item]
        last_ack = max((k for k, (_, ack) in enumerate(mine) if ack), default=None)
        values = {0} if last_ack is None else {mine[last_ack][0]}
        values |= {dots for dots, _ in mine[(last_ack + 1 if last_ack is not None else 0):]}
        allowed[item] = values
    return allowed


def test_killing_the_server_mid_vote_loses_no_acknowledged_vote(tmp_path):
    from test_concurrency import TOKEN, Browser

    from toolkit import catalogue
    from toolkit import facilitator as facilitators
    from toolkit.db import connect, migrate

    db = connect(tmp_path / "k.db")
    migrate(db)
    catalogue.load(db)
    account = facilitators.create(db, "fa@example.org", "Fa", "correct horse battery")
    room = workshops.create(db, account["id"], {"title": "Stroomstoring", "region": "Twente",
                                                 "sector": "Maakindustrie", "date": "2026-12-01",
                                                 "language": "nl", "dots": str(KILL_DOTS)})
    workshops.set_step(db, room["id"], "drivers")
    items = _drivers(db, room)
    db.close()

    rng = random.Random(20261201)
    server = _Server(tmp_path)
    try:
        server.start()
        voters = []
        for n in range(VOTERS):
            browser = Browser(server.base)
            page = browser.send("GET", f"/j/{room['code']}")[2]
            form = {"csrf_token": TOKEN.search(page).group(1), "name": f"Deelnemer {n}", "organisation": "Org",
                    "stakeholder_group": "companies", "request_token": f"join-{n}"}
            assert browser.send("POST", f"/j/{room['code']}", form)[0] == 303
            browser.token = TOKEN.search(browser.send("GET", f"/w/{room['code']}")[2]).group(1)
            voters.append((f"Deelnemer {n}", browser, []))
        failures, outcomes = [], Counter()
        for kill in range(KILLS):
            stop = threading.Event()
            starts = [len(sent) for _, _, sent in voters]
            threads = [threading.Thread(target=_voter, args=(server, browser, room["code"], items, sent, stop,
                                                             random.Random(rng.random()), n % 2 == 0, failures))
                       for n, (_, browser, sent) in enumerate(voters)]
            for thread in threads:
                thread.start()
            time.sleep(rng.uniform(0.3, 1.2))
            server.kill()  # in the middle of whatever the server was doing
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
            for (_, _, sent), start in zip(voters, starts):
                outcomes.update(ack for *_, ack in sent[start:])
            server.start()  # recovery from the WAL happens on the first connection

            conn = sqlite3.connect(tmp_path / "k.db")
            try:
                assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)], kill
                assert conn.execute("PRAGMA foreign_key_check").fetchall() == [], kill
                for name, _, sent in voters:
                    stored = dict(conn.execute(
                        "SELECT item_id, dots FROM votes JOIN participants ON participants.id = participant_id "
                        "WHERE participants.name = ?", [name]).fetchall())
                    allowed = _allowed(sent, items)
                    for item in items:
                        assert stored.get(item, 0) in allowed[item], (kill, name, item, stored, sent[-5:])
                    # The next phase starts from what is stored: a later vote decides from here on.
                    sent[:] = [(item, stored.get(item, 0), True) for item in items]
            finally:
                conn.close()
        assert failures == []
        # The kills did land mid-conversation, and most votes were answered.
        assert outcomes[True] > 20 * KILLS and outcomes[False] > 0, outcomes
        print(f"\n{KILLS} kills: {outcomes[True]} votes acknowledged, {outcomes[False]} cut off")
    finally:
        server.stop()
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log, log[-3000:]
