"""`toolkit backup` and `toolkit restore` through the CLI runner, against a database in use."""
import sqlite3
import threading
import time

import pytest
from click.testing import CliRunner
from conftest import english_cli
from sqlite_utils.migrations import Migrations

from toolkit import cli, participant, vote
from toolkit import facilitator as facilitators
from toolkit import workshop as workshops
from toolkit.db import connect, writing
from toolkit.migrations import migrations

FORM = {"title": "Back-up", "region": "Twente", "sector": "Maakindustrie", "date": "2026-12-01",
        "language": "nl", "dots": "5"}


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A CLI over live.db holding a workshop with two participants who voted; its path is .live."""
    english_cli(tmp_path, monkeypatch)
    db = connect(tmp_path / "live.db")
    account = facilitators.create(db, "fa@example.org", "Fa", "correct horse battery")
    room = workshops.create(db, account["id"], FORM)
    workshops.set_step(db, room["id"], "drivers")
    driver = workshops.items(db, room, kinds=("driver",))[0]["id"]
    for name in ("Ann", "Bo"):
        someone = participant.join(db, room, {"name": name, "organisation": "Acme", "stakeholder_group": "education"})
        vote.set_dots(db, room, someone["id"], driver, 2)
    db.close()
    return tmp_path


def run(*args, input=None):
    return CliRunner().invoke(cli.main, [str(a) for a in args], input=input, catch_exceptions=False)


def contents(path) -> dict:
    """Every table's rows, in a form that compares equal exactly when the data is the same."""
    conn = sqlite3.connect(path)
    try:
        tables = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {table: sorted(map(repr, conn.execute(f"SELECT * FROM [{table}]"))) for table in tables}
    finally:
        conn.close()


def test_backup_says_what_it_saved_and_the_copy_is_a_whole_database(env):
    result = run("backup", env / "b.db")
    assert result.exit_code == 0, result.output
    assert f"Backup saved to {env / 'b.db'}" in result.output
    assert "workshops: 1, participants: 2; integrity check ok" in result.output
    assert contents(env / "b.db") == contents(env / "live.db")
    conn = sqlite3.connect(env / "b.db")
    # One self-contained file: nothing left behind in a -wal file.
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()
    assert sorted(p.name for p in env.iterdir() if p.name.startswith("b.db")) == ["b.db"]


def test_backup_never_overwrites_unless_forced(env):
    (env / "b.db").write_bytes(b"precious")
    refused = run("backup", env / "b.db")
    assert refused.exit_code == 1 and "already exists" in refused.output and "--force" in refused.output
    assert (env / "b.db").read_bytes() == b"precious"
    forced = run("backup", env / "b.db", "--force")
    assert forced.exit_code == 0, forced.output
    assert contents(env / "b.db") == contents(env / "live.db")
    assert not [p for p in env.iterdir() if p.name.endswith(".partial")]


def test_backup_speaks_dutch_to_a_dutch_terminal(env, monkeypatch):
    from toolkit.i18n import gettext_for

    monkeypatch.setenv("LANG", "nl_NL.UTF-8")
    result = run("backup", env / "b.db")
    said = gettext_for("nl")("Backup saved to %(path)s (%(kilobytes)d KB; workshops: %(workshops)d, "
                             "participants: %(participants)d; integrity check ok).")
    assert result.output.startswith(said.split("%(path)s")[0])


def test_a_backup_taken_during_writes_is_one_consistent_moment(env):
    """A writer commits a ledger row and a running total together; a backup holds both or neither."""
    db = connect(env / "live.db")
    db.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, filler BLOB)")
    db.execute("CREATE TABLE total (n INTEGER NOT NULL)")
    db.execute("INSERT INTO total VALUES (0)")
    # Some bulk, so the backup takes long enough for writes to land during it.
    db.execute("CREATE TABLE bulk (b BLOB)")
    with writing(db):
        for _ in range(400):
            db.execute("INSERT INTO bulk VALUES (randomblob(50000))")
    stop = threading.Event()
    written = []

    def writer():
        conn = connect(env / "live.db")
        while not stop.is_set():
            with writing(conn):
                conn.execute("INSERT INTO ledger (filler) VALUES (randomblob(200))")
                conn.execute("UPDATE total SET n = n + 1")
            written.append(1)
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while len(written) < 50 and time.monotonic() < deadline:
            time.sleep(0.001)
        before = len(written)  # committed before the backup began
        results = [run("backup", env / f"b{k}.db") for k in range(3)]
        during = len(written) - before
    finally:
        stop.set()
        thread.join()
    assert during > 0  # the writer really was writing while we backed up
    for k, result in enumerate(results):
        assert result.exit_code == 0, result.output
        conn = sqlite3.connect(env / f"b{k}.db")
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT count(*) FROM ledger").fetchone()[0]
        assert rows == conn.execute("SELECT n FROM total").fetchone()[0]
        assert rows >= before
        assert conn.execute("SELECT count(*) FROM votes").fetchone()[0] == 2
        conn.close()


def test_restore_brings_back_exactly_what_was_backed_up_and_saves_the_current_first(env):
    assert run("backup", env / "b.db").exit_code == 0
    saved = contents(env / "live.db")
    db = connect(env / "live.db")
    room = workshops.by_code(db, db.execute("SELECT code FROM workshops").fetchone()[0])
    late = participant.join(db, room, {"name": "Late", "organisation": "X", "stakeholder_group": "government"})
    db.execute("DELETE FROM votes WHERE participant_id != ?", [late["id"]])
    db.close()
    changed = contents(env / "live.db")
    assert changed != saved

    result = run("restore", env / "b.db", "--yes")
    assert result.exit_code == 0, result.output
    assert contents(env / "live.db") == saved
    safety = [p for p in env.iterdir() if p.name.startswith("live-before-restore-")]
    assert len(safety) == 1 and f"saved at {safety[0]}" in result.output
    assert contents(safety[0]) == changed
    assert "restored from" in result.output and "workshops: 1, participants: 2" in result.output
    conn = sqlite3.connect(env / "live.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_restore_asks_first(env):
    assert run("backup", env / "b.db").exit_code == 0
    db = connect(env / "live.db")
    db.execute("DELETE FROM votes")
    db.close()
    before = contents(env / "live.db")
    declined = run("restore", env / "b.db", input="n\n")
    assert declined.exit_code == 1 and "Replace the database" in declined.output
    assert contents(env / "live.db") == before
    assert not [p for p in env.iterdir() if "before-restore" in p.name]
    accepted = run("restore", env / "b.db", input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert contents(env / "live.db") == contents(env / "b.db")


def test_restore_of_an_older_backup_applies_the_newer_migrations(env):
    older = Migrations("toolkit")
    for step in migrations._migrations[:-1]:
        older(name=step.name)(step.fn)
    db = connect(env / "old.db")
    older.apply(db)
    db.close()
    result = run("restore", env / "old.db", "--yes")
    assert result.exit_code == 0, result.output
    db = connect(env / "live.db")
    assert [m.name for m in migrations.pending(db)] == []
    assert migrations._migrations[-1].name in {r["name"] for r in db.query("SELECT name FROM _sqlite_migrations")}
    db.close()


def _not_sqlite(env):
    (env / "src").write_text("workshop;votes\nTwente;3\n")


def _corrupt(env):
    assert run("backup", env / "src").exit_code == 0
    data = bytearray((env / "src").read_bytes())
    page = 4096
    for start in range(page, len(data), page * 3):  # scribble over every third page after the first
        data[start:start + 64] = b"\xa5" * 64
    (env / "src").write_bytes(bytes(data))


def _other_sqlite(env):
    conn = sqlite3.connect(env / "src")
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()


def _newer(env):
    assert run("backup", env / "src").exit_code == 0
    conn = sqlite3.connect(env / "src")
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('toolkit', 'm999_from_the_future', '2030-01-01')")
    conn.commit()
    conn.close()


def _missing(env):
    pass


@pytest.mark.parametrize("make, says", [
    (_not_sqlite, "is not a SQLite database"),
    (_corrupt, "is damaged"),
    (_other_sqlite, "is not a toolkit database"),
    (_newer, "newer version of the toolkit (m999_from_the_future)"),
    (_missing, "There is no file"),
])
def test_restore_refuses_a_bad_file_and_leaves_the_database_alone(env, make, says):
    make(env)
    before = contents(env / "live.db")
    for args in ((), ("--yes",)):
        result = run("restore", env / "src", *args)
        assert result.exit_code == 1, result.output
        assert says in result.output and "Traceback" not in result.output
    assert contents(env / "live.db") == before
    assert not [p for p in env.iterdir() if "before-restore" in p.name]
