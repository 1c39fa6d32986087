"""Editing together: every saved change recorded, and colliding edits caught, never overwritten."""
import json

from sqlite_utils import Database

from toolkit import audit
from toolkit.i18n import N_


class Conflict(Exception):
    """Someone saved the same thing since this editor started; nothing was written.

    current is what is stored now, mine what this editor sent, fields the ones both
    changed differently, merged what would be saved with every other change kept,
    by the edit that came in between, and version the version current is: the one a
    settled form must name, so that nothing saved after current is silently undone.
    """

    def __init__(self, current: dict, mine: dict, fields: list[str], merged: dict, by: dict | None,
                 version: int):
        super().__init__("edit conflict on " + ", ".join(fields))
        self.current = current
        self.mine = mine
        self.fields = fields
        self.merged = merged
        self.by = by
        self.version = version


def merge(base: dict | None, current: dict, mine: dict, fields) -> tuple[dict, list[str]]:
    """Three-way merge per field: changes on one side are kept, different changes on both collide.

    Without a known base every field that differs is a collision: better to ask than to guess.
    """
    merged, collisions = {}, []
    for field in fields:
        theirs, ours = current[field], mine[field]
        original = base.get(field) if base is not None else None
        if ours == theirs or (base is not None and ours == original):
            merged[field] = theirs
        elif base is not None and theirs == original:
            merged[field] = ours
        else:
            merged[field] = ours
            collisions.append(field)
    return merged, collisions


def record(db: Database, workshop: dict, subject: str, version: int, kind: str,
           before: dict | None, after: dict, by: dict, at: str) -> None:
    """Keep one saved change: who (by), when, what changed, and the whole record after it."""
    before = before or {}
    changes = {
        field: [before.get(field), after.get(field)]
        for field in {**before, **after}
        if before.get(field) != after.get(field)
    }
    # The audit log names every saved change too, with the edit history holding the details.
    event = {"created": "action_proposed", "edited": "action_edited", "removed": "action_removed"}[kind] \
        if subject.startswith("action:") else "text_edited"
    audit.record(db, workshop["id"], event, after.get("what") or subject.partition(":")[2], version=version,
                 fields=sorted(changes))
    db["edits"].insert({
        "workshop_id": workshop["id"], "subject": subject, "version": version, "kind": kind,
        "changes": json.dumps(changes, ensure_ascii=False),
        "snapshot": json.dumps(after, ensure_ascii=False),
        "participant_id": by.get("participant_id"), "facilitator_id": by.get("facilitator_id"),
        "at": at,
    })


def snapshot(db: Database, workshop: dict, subject: str, version: int) -> dict | None:
    """The record as it was saved at version, if that save is on record."""
    row = db.execute(
        "SELECT snapshot FROM edits WHERE workshop_id = ? AND subject = ? AND version = ? "
        "ORDER BY id DESC LIMIT 1", [workshop["id"], subject, version]
    ).fetchone()
    return None if row is None else json.loads(row[0])


def last_edit(db: Database, workshop: dict, subject: str) -> dict | None:
    """The latest saved change of subject, with who made it."""
    found = history(db, workshop, subject, limit=1)
    return found[0] if found else None


def history(db: Database, workshop: dict, subject: str | None = None, limit: int = 500) -> list[dict]:
    """Saved changes, newest first, each with who made it; of one subject or the whole workshop."""
    where, params = "e.workshop_id = ?", [workshop["id"]]
    if subject is not None:
        where += " AND e.subject = ?"
        params.append(subject)
    rows = db.query(
        f"""SELECT e.*, p.name AS participant_name, p.organisation AS participant_organisation,
                   f.name AS facilitator_name
            FROM edits e
            LEFT JOIN participants p ON p.id = e.participant_id
            LEFT JOIN facilitators f ON f.id = e.facilitator_id
            WHERE {where} ORDER BY e.id DESC LIMIT ?""",
        params + [limit],
    )
    found = []
    for row in rows:
        row["changes"] = json.loads(row["changes"])
        row["snapshot"] = json.loads(row["snapshot"])
        row["who"] = who(row, workshop)
        found.append(row)
    return found


def who(row: dict, workshop: dict) -> dict:
    """How an edit's author is named: the facilitator, a participant (no name if anonymous), or gone."""
    if row.get("facilitator_id") is not None:
        return {"role": N_("facilitator"), "name": row.get("facilitator_name") or ""}
    if row.get("participant_id") is not None:
        name = None if workshop["anonymous"] else row.get("participant_name")
        return {"role": N_("participant"), "name": name or "",
                "organisation": row.get("participant_organisation") or ""}
    return {"role": N_("someone who has since left"), "name": ""}
