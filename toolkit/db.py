"""One SQLite connection per request, the pragmas every connection needs, and write transactions."""
import fcntl
import hashlib
import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

# SQLite has one writer at a time; queueing writers on a lock inside the process is
# far cheaper than letting threads sleep in SQLite's busy handler (see STACK.md).
_write_lock = threading.Lock()
# Between processes (`toolkit serve` runs several, a command may run beside them) a lock file
# does the same: waiting on it wakes the moment it is free, where SQLite's busy handler sleeps
# and retries. Opened once per process and database: a lock belongs to an open file.
_lock_files: dict[tuple[int, str], int | None] = {}


def connect(path) -> sqlite_utils.Database:
    """Open the database at path with WAL, a busy timeout and foreign keys on."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=5)
    db = sqlite_utils.Database(conn)
    db.lock_path = None if str(path) == ":memory:" else f"{path}-writer.lock"
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
        lock_file = _lock_file(getattr(db, "lock_path", None))
        if lock_file is not None:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.rollback()
                raise
            else:
                db.commit()
        finally:
            if lock_file is not None:
                fcntl.flock(lock_file, fcntl.LOCK_UN)


def _lock_file(path: str | None) -> int | None:
    """This process's descriptor of the database's lock file; None where none can be made (SQLite still guards)."""
    if path is None:
        return None
    key = (os.getpid(), path)  # a forked child opens its own: a lock held through the parent's is shared
    if key not in _lock_files:
        try:
            _lock_files[key] = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:
            _lock_files[key] = None  # a read-only folder: SQLite's own locking is all there is
    return _lock_files[key]


def migrate(db: sqlite_utils.Database) -> None:
    """Apply the schema's pending migrations."""
    from toolkit.migrations import migrations

    migrations.apply(db)



def insert_once(db: sqlite_utils.Database, table: str, row: dict, token: str | None) -> int:
    """Insert row once per form token; returns the id of the row the token stands for."""
    return insert_new(db, table, row, token)[0]


def insert_new(db: sqlite_utils.Database, table: str, row: dict, token: str | None) -> tuple[int, bool]:
    """Insert row once per form token; returns the id the token stands for and whether it is new.

    The same token with the same content is a resent form (double click, retry) and adds
    nothing. The same token with other content is a form reused after Back: a new row,
    stored under the token extended with its content's digest, so its own resends match.
    """
    # Timestamps and fresh uids differ between a form and its resend; the content does not.
    content = {key: value for key, value in row.items() if not key.endswith("_at") and key != "uid"}
    with writing(db):
        if token:
            digest = hashlib.sha256(repr(sorted(content.items())).encode()).hexdigest()[:16]
            taken = False
            for candidate in (token, f"{token}:{digest}"):
                found = _row_with_token(db, table, row["workshop_id"], candidate)
                if found is None:
                    continue
                if all(found[key] == value for key, value in content.items()):
                    return found["id"], False
                taken = True
            if taken:
                token = f"{token}:{digest}"
        return db[table].insert({**row, "request_token": token}).last_pk, True


def _row_with_token(db, table, workshop_id, token) -> dict | None:
    cursor = db.execute(
        f"SELECT * FROM [{table}] WHERE workshop_id = ? AND request_token = ?", [workshop_id, token]
    )
    found = cursor.fetchone()
    return None if found is None else dict(zip([c[0] for c in cursor.description], found))
