"""Data care: deleting a workshop, anonymising its participants, and removing workshops past retention.

Anonymising removes what identifies people as people: the names they gave when joining,
their personal codes, and the copies of those names the toolkit made itself (audit labels,
history kept in drafts and edits, Word drafts that listed them). What the room wrote
(items, comments, actions, texts), organisations and stakeholder groups stay: the
results depend on them.
"""
import datetime
import html
from contextlib import contextmanager
import io
import json
import re
import zipfile

from sqlite_utils import Database

from toolkit import audit
from toolkit.db import writing
from toolkit.workshop import now

# A name this short ("Jo") matches ordinary words in stored history: only whole fields are cleared.
MIN_NAME_IN_TEXT = 3
_TAG = re.compile(rb"<[^>]+>")


@contextmanager
def _securely(db: Database):
    # Deleted rows and blobs are overwritten in the file, not merely unlinked, so that a copy
    # of the database file does not carry them on in its free pages. Only here: the server
    # keeps its connections, and a vote taken back need not be overwritten.
    db.execute("PRAGMA secure_delete = ON")
    try:
        yield
    finally:
        db.execute("PRAGMA secure_delete = OFF")


def _checkpoint(db: Database) -> None:
    # Best effort: move the overwritten pages into the database file now. PASSIVE never waits,
    # so votes in a live room are not held up; SQLite's own checkpoints finish the rest.
    try:
        db.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except Exception:  # noqa: BLE001 - a checkpoint that cannot run now is not an error
        pass


def delete_workshop(db: Database, workshop: dict) -> None:
    """Remove the workshop and everything in it, in one transaction."""
    if db.execute("PRAGMA foreign_keys").fetchone()[0] != 1:
        # Everything else goes with the workshop row through ON DELETE CASCADE.
        raise RuntimeError("foreign keys are off: deleting would leave the workshop's rows behind")
    with _securely(db), writing(db):
        db.execute("DELETE FROM workshops WHERE id = ?", [workshop["id"]])
    _checkpoint(db)


def _names(db: Database, workshop: dict) -> dict[str, str]:
    """Each participant's name with the organisation that stands in for it."""
    return {
        row["name"].strip(): row["organisation"]
        for row in db.query("SELECT name, organisation FROM participants WHERE workshop_id = ? "
                            "AND name IS NOT NULL AND trim(name) != ''", [workshop["id"]])
    }


def _scrubber(names: dict[str, str]):
    """A function replacing each name in a text by its organisation, whole words only."""
    usable = sorted((name for name in names if len(name) >= MIN_NAME_IN_TEXT), key=len, reverse=True)
    if not usable:
        return lambda value: value
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(name) for name in usable) + r")(?!\w)",
                         re.IGNORECASE)
    folded = {name.casefold(): organisation for name, organisation in names.items()}
    return lambda value: pattern.sub(lambda found: folded.get(found.group(1).casefold(), ""), value)


def _scrub_json(text: str | None, scrub) -> str | None:
    """Stored JSON with names replaced inside its strings, and any field called name emptied."""
    if text is None:
        return None

    def walk(value, key=None):
        if isinstance(value, str):
            return None if key == "name" else scrub(value)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {scrub(k): walk(v, k) for k, v in value.items()}
        return value

    return json.dumps(walk(json.loads(text)), ensure_ascii=False)


def _names_in_docx(blob: bytes, names) -> bool:
    """Whether a stored Word document mentions any of names; an unreadable one counts as yes."""
    wanted = [name.casefold() for name in names]
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as document:
            for part in document.namelist():
                words = html.unescape(_TAG.sub(b"", document.read(part)).decode("utf-8", "ignore"))
                # Without word boundaries: markup between text runs may join words together.
                if any(name in words.casefold() for name in wanted):
                    return True
    except (zipfile.BadZipFile, OSError, ValueError):
        return True
    return False


def anonymise(db: Database, workshop: dict) -> dict:
    """Remove participants' names and personal codes everywhere; the workshop names organisations only.

    Returns how many participants lost their name and how many Word drafts were withdrawn.
    """
    with _securely(db), writing(db):
        names = _names(db, workshop)
        scrub = _scrubber(names)
        wid = workshop["id"]
        named = db.execute("SELECT count(*) FROM participants WHERE workshop_id = ? AND name IS NOT NULL",
                           [wid]).fetchone()[0]
        db.execute("UPDATE participants SET name = NULL, rejoin_code = NULL WHERE workshop_id = ?", [wid])
        db.execute("UPDATE workshops SET anonymous = 1 WHERE id = ?", [wid])
        # A participant's label in the log becomes their organisation; one who has left, nothing.
        db.execute(
            """UPDATE audit SET actor = coalesce(
                   (SELECT organisation FROM participants p WHERE p.id = audit.actor_id AND p.workshop_id = ?), '')
               WHERE workshop_id = ? AND actor_kind = 'participant'""", [wid, wid])
        for row in list(db.query("SELECT id, subject, detail FROM audit WHERE workshop_id = ?", [wid])):
            db.execute("UPDATE audit SET subject = ?, detail = ? WHERE id = ?",
                       [scrub(row["subject"]), _scrub_json(row["detail"], scrub), row["id"]])
        for row in list(db.query("SELECT id, changes, snapshot FROM edits WHERE workshop_id = ?", [wid])):
            db.execute("UPDATE edits SET changes = ?, snapshot = ? WHERE id = ?",
                       [_scrub_json(row["changes"], scrub), _scrub_json(row["snapshot"], scrub), row["id"]])
        # A draft still being rendered was built from the names: it is not kept.
        db.execute("DELETE FROM drafts WHERE workshop_id = ? AND length(docx) = 0 AND withdrawn_at IS NULL",
                   [wid])
        withdrawn = 0
        for row in list(db.query("SELECT id, docx, snapshot, changes FROM drafts WHERE workshop_id = ? "
                                 "AND withdrawn_at IS NULL", [wid])):
            update = {"snapshot": _scrub_json(row["snapshot"], scrub),
                      "changes": _scrub_json(row["changes"], scrub)}
            if names and _names_in_docx(row["docx"], names):
                # The document cannot be edited safely; its number, date and changes stay listed.
                update.update(docx=b"", withdrawn_at=now())
                withdrawn += 1
            db["drafts"].update(row["id"], update)
        audit.record(db, wid, "participants_anonymised", participants=named, drafts_withdrawn=withdrawn)
    _checkpoint(db)
    return {"participants": named, "drafts_withdrawn": withdrawn}


def retention_days(value) -> int | None:
    """The retention setting as a number of days; empty means keep forever. Raises ValueError."""
    if value is None or str(value).strip() == "":
        return None
    days = int(str(value).strip())
    if days < 1:
        raise ValueError("retention must be at least 1 day")
    return days


def _moment(value: str | None) -> datetime.datetime | None:
    """A stored date or timestamp as an aware UTC moment; a bare date counts from its midnight."""
    if not value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)


def last_activity(db: Database, workshop: dict) -> datetime.datetime:
    """The latest of the workshop's date, creation, closing, log entries, edits, drafts and presence."""
    wid = workshop["id"]
    found = [workshop["date"], workshop["created_at"], workshop.get("closed_at")]
    for sql in ("SELECT max(at) FROM audit WHERE workshop_id = ?",
                "SELECT max(at) FROM edits WHERE workshop_id = ?",
                "SELECT max(created_at) FROM drafts WHERE workshop_id = ?",
                # Someone in the room keeps it alive too, not only the facilitator.
                "SELECT max(coalesce(last_seen, joined_at)) FROM participants WHERE workshop_id = ?"):
        found.append(db.execute(sql, [wid]).fetchone()[0])
    return max(moment for moment in map(_moment, found) if moment is not None)


def expired(db: Database, days: int, now: datetime.datetime | None = None) -> list[dict]:
    """Workshops whose last activity is more than days ago, oldest first, with that activity."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    limit = now - datetime.timedelta(days=days)
    found = []
    for workshop in db.query("SELECT * FROM workshops ORDER BY id"):
        last = last_activity(db, workshop)
        if last < limit:
            found.append({"id": workshop["id"], "code": workshop["code"], "title": workshop["title"],
                          "last_activity": last.isoformat(timespec="seconds")})
    return sorted(found, key=lambda w: w["last_activity"])


def remove_expired(db: Database, days: int, now: datetime.datetime | None = None) -> list[dict]:
    """Delete the workshops whose last activity is more than days ago; returns what was removed."""
    if db.execute("PRAGMA foreign_keys").fetchone()[0] != 1:
        raise RuntimeError("foreign keys are off: deleting would leave the workshop's rows behind")
    with _securely(db), writing(db):
        # Decided inside the write, so nothing that happens meanwhile is deleted with it.
        removed = expired(db, days, now)
        for workshop in removed:
            db.execute("DELETE FROM workshops WHERE id = ?", [workshop["id"]])
    if removed:
        _checkpoint(db)
    return removed
