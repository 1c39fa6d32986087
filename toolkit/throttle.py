"""Counting failed attempts in the database, so every server process and thread sees the same count."""
import hashlib
import time

from sqlite_utils import Database

from toolkit.db import writing

# Rows older than this help no window and are removed as new ones arrive.
KEEP_SECONDS = 24 * 3600


class TooMany(Exception):
    """Too many attempts; the caller may try again after seconds."""

    def __init__(self, seconds: int):
        super().__init__(seconds)
        self.seconds = seconds


def key(kind: str, value: str, secret: str = "") -> str:
    """A stored key for kind and value; hashed so addresses and e-mails are not kept in clear."""
    digest = hashlib.sha256(f"{secret}\0{str(value).strip().lower()}".encode()).hexdigest()[:32]
    return f"{kind}:{digest}"


def wait(db: Database, key: str, limit: int, window: float, now: float | None = None) -> int:
    """Seconds until key may try again: 0 while it has had fewer than limit failures in window."""
    now = time.time() if now is None else now
    rows = db.execute(
        "SELECT at FROM attempts WHERE key = ? AND at > ? ORDER BY at DESC LIMIT ?",
        [key, now - window, limit],
    ).fetchall()
    if len(rows) < limit:
        return 0
    # Free again once the oldest of the last limit failures leaves the window.
    return max(1, int(rows[-1][0] + window - now) + 1)


def count(db: Database, *keys: str, now: float | None = None) -> None:
    """Count one attempt against each key."""
    now = time.time() if now is None else now
    with writing(db):
        for each in keys:
            db.execute("INSERT INTO attempts (key, at) VALUES (?, ?)", [each, now])
        db.execute("DELETE FROM attempts WHERE at < ?", [now - KEEP_SECONDS])


def forget(db: Database, key: str) -> None:
    """Clear key's failures, after it succeeded."""
    with writing(db):
        db.execute("DELETE FROM attempts WHERE key = ?", [key])


def take(db: Database, limits: dict[str, int], window: float, now: float | None = None) -> None:
    """Count one attempt against every key, or raise TooMany if any key has used up its limit.

    Checking and counting in one write, so a burst of parallel attempts cannot all pass the check.
    """
    now = time.time() if now is None else now
    with writing(db):
        seconds = max(wait(db, each, limit, window, now) for each, limit in limits.items())
        if seconds:
            raise TooMany(seconds)
        count(db, *limits, now=now)
