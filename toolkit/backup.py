"""Backing up and restoring the database while it is in use, with SQLite's online backup API.

A file copy of a database in WAL mode can miss committed transactions still in the -wal
file, or catch a page half-written: the backup API reads one consistent snapshot instead.
"""
import os
import sqlite3
import tempfile
from datetime import datetime
from pathlib import Path

from toolkit.i18n import N_
from toolkit.validation import Invalid

SQLITE_HEADER = b"SQLite format 3\x00"


def backup(database, dest, force: bool = False) -> dict:
    """Save a consistent copy of database at dest; returns what was saved (path, size, counts)."""
    database, dest = Path(database), Path(dest)
    if not database.is_file():
        raise Invalid(N_("The database %(path)s does not exist."), path=str(database))
    _refuse_to_overwrite(dest, force)
    try:
        # Beside dest, so the final rename stays on one file system and is atomic.
        handle, temp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent)
        os.close(handle)
    except OSError as error:
        raise Invalid(N_("Cannot write the backup to %(path)s: %(reason)s"),
                      path=str(dest), reason=error.strerror or str(error)) from None
    temp = Path(temp_name)
    try:
        source = _open_existing(database)
        try:
            copy = sqlite3.connect(temp)
            try:
                source.backup(copy)  # all pages in one step: one snapshot, writers carry on (WAL)
                # A backup is one self-contained file: no -wal file beside it to go missing.
                copy.execute("PRAGMA journal_mode=DELETE")
                problems = _integrity_problems(copy)
                if problems:
                    raise Invalid(N_("The copy failed its integrity check (%(problem)s); nothing was saved."),
                                  problem=problems)
                summary = counts(copy)
            finally:
                copy.close()
        finally:
            source.close()
        _fsync(temp)
        _refuse_to_overwrite(dest, force)  # someone may have put a file there meanwhile
        os.replace(temp, dest)
        _fsync(dest.parent)
    except sqlite3.Error as error:
        raise Invalid(N_("Cannot write the backup to %(path)s: %(reason)s"),
                      path=str(dest), reason=str(error)) from None
    except OSError as error:
        raise Invalid(N_("Cannot write the backup to %(path)s: %(reason)s"),
                      path=str(dest), reason=error.strerror or str(error)) from None
    finally:
        temp.unlink(missing_ok=True)
    return {"path": str(dest), "size": dest.stat().st_size, **summary}


def check(source) -> dict:
    """Check that source is an intact toolkit database this code can run; returns its counts."""
    from toolkit.migrations import migrations

    source = Path(source)
    if not source.is_file():
        raise Invalid(N_("There is no file %(path)s."), path=str(source))
    with source.open("rb") as file:
        if file.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise Invalid(N_("%(path)s is not a SQLite database."), path=str(source))
    try:
        # Read-only: checking a file must never change it, nor create a -wal beside it.
        conn = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise Invalid(N_("%(path)s is damaged: %(problem)s"), path=str(source), problem=str(error)) from None
    try:
        try:
            problems = _integrity_problems(conn)
            names = _migration_names(conn)
            found = counts(conn)
        except sqlite3.DatabaseError as error:
            raise Invalid(N_("%(path)s is damaged: %(problem)s"), path=str(source), problem=str(error)) from None
    finally:
        conn.close()
    if problems:
        raise Invalid(N_("%(path)s is damaged: %(problem)s"), path=str(source), problem=problems)
    if not names:
        raise Invalid(N_("%(path)s is not a toolkit database."), path=str(source))
    unknown = sorted(set(names) - {m.name for m in migrations._migrations})
    if unknown:
        raise Invalid(N_("%(path)s comes from a newer version of the toolkit (%(names)s); "
                         "update the toolkit first."), path=str(source), names=", ".join(unknown))
    return found


def safety_copy_path(database) -> Path:
    """Where the current database is saved before a restore: beside it, with the time in its name."""
    database = Path(database)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return database.with_name(f"{database.stem}-before-restore-{stamp}{database.suffix or '.db'}")


def restore(database, source) -> dict:
    """Replace database with source after checking it and saving the current one; returns both."""
    from toolkit.db import connect, migrate

    database, source = Path(database), Path(source)
    found = check(source)
    saved = None
    if database.is_file():
        saved = backup(database, safety_copy_path(database))
    try:
        incoming = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        try:
            live = sqlite3.connect(database, timeout=30)
            try:
                # The backup API writes every page under the live database's own locks, so a
                # running server sees either the old database or the restored one.
                incoming.backup(live)
            finally:
                live.close()
        finally:
            incoming.close()
    except sqlite3.Error as error:
        raise Invalid(N_("Cannot restore into %(path)s: %(reason)s"),
                      path=str(database), reason=str(error)) from None
    db = connect(database)  # back to WAL, as every connection expects
    try:
        migrate(db)
    finally:
        db.close()
    return {"path": str(database), "source": str(source), "saved": saved, **found}


def counts(conn: sqlite3.Connection) -> dict:
    """How many workshops and participants a database holds (0 where a table is missing)."""
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {table: conn.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0] if table in tables else 0
            for table in ("workshops", "participants")}


def _refuse_to_overwrite(dest: Path, force: bool) -> None:
    if dest.is_dir():
        raise Invalid(N_("%(path)s is a folder; please give a file name."), path=str(dest))
    if not dest.parent.is_dir():
        raise Invalid(N_("The folder %(path)s does not exist."), path=str(dest.parent))
    if dest.exists() and not force:
        raise Invalid(N_("%(path)s already exists. Choose another name, or add --force to replace it."),
                      path=str(dest))


def _open_existing(database: Path) -> sqlite3.Connection:
    # mode=rw never creates a database that is not there.
    return sqlite3.connect(f"{database.resolve().as_uri()}?mode=rw", uri=True, timeout=30)


def _integrity_problems(conn: sqlite3.Connection) -> str:
    rows = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    return "" if rows == ["ok"] else "; ".join(rows[:5])


def _migration_names(conn: sqlite3.Connection) -> list[str]:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlite_migrations'").fetchone()
    if not exists:
        return []
    return [row[0] for row in conn.execute(
        "SELECT name FROM _sqlite_migrations WHERE migration_set = 'toolkit'")]


def _fsync(path: Path) -> None:
    """Make path's content (or a folder's entries) durable before we say it is saved."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open a folder; its rename is durable enough there
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
