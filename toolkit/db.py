"""One SQLite connection per request, the pragmas every connection needs, and write transactions."""
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

# SQLite has one writer at a time; queueing writers on a lock inside the process is
# far cheaper than letting threads sleep in SQLite's busy handler (see STACK.md).
_write_lock = threading.Lock()


def connect(path) -> sqlite_utils.Database:
    """Open the database at path with WAL, a busy timeout and foreign keys on."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=5)
    db = sqlite_utils.Database(conn)
    db.execute("PRAGMA busy_timeout=5000")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA synchronous=NORMAL")
    if str(path) != ":memory:":
        with db.ensure_autocommit_on():
            db.execute("PRAGMA journal_mode=WAL")
    return db


@contextmanager
def writing(db: sqlite_utils.Database):
    """Run the block as one IMMEDIATE transaction, so reads inside it see no one else's writes."""
    if db.conn.in_transaction:
        # Already inside a write: join it rather than nest a second BEGIN.
        yield db
        return
    with _write_lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.rollback()
            raise
        else:
            db.commit()


def migrate(db: sqlite_utils.Database) -> None:
    """Apply the schema's pending migrations."""
    from toolkit.migrations import migrations

    migrations.apply(db)

