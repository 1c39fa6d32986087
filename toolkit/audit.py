"""The audit log: who did what in a workshop and when, written in the same transaction as the deed."""
import datetime
import json
from contextvars import ContextVar

from sqlite_utils import Database

from toolkit.db import writing
from toolkit.i18n import N_

# What each event is called on the audit page; the key is what is stored and exported.
EVENTS = {
    "workshop_created": N_("Workshop created"),
    "workshop_edited": N_("Workshop details changed"),
    "workshop_closed": N_("Workshop closed"),
    "workshop_reopened": N_("Workshop reopened"),
    "participants_anonymised": N_("Participants anonymised"),
    "cofacilitator_invited": N_("Co-facilitator invited"),
    "cofacilitator_added": N_("Co-facilitator added"),
    "cofacilitator_removed": N_("Co-facilitator removed"),
    "joining_closed": N_("Joining closed"),
    "joining_opened": N_("Joining opened"),
    "joined": N_("Joined"),
    "rejoined": N_("Continued on another device"),
    "participant_removed": N_("Participant removed"),
    "step_changed": N_("Step changed"),
    "step_settings": N_("Step settings changed"),
    "vote_cast": N_("Vote cast"),
    "vote_changed": N_("Vote changed"),
    "vote_taken_back": N_("Vote taken back"),
    "item_added": N_("Item added"),
    "item_edited": N_("Item edited"),
    "item_hidden": N_("Item hidden"),
    "item_shown": N_("Item shown again"),
    "item_adopted": N_("Item adopted"),
    "item_dropped": N_("Item no longer adopted"),
    "items_merged": N_("Items merged"),
    "comment_added": N_("Comment added"),
    "comment_hidden": N_("Comment hidden"),
    "comment_shown": N_("Comment shown again"),
    "action_proposed": N_("Action proposed"),
    "action_edited": N_("Action edited"),
    "action_removed": N_("Action removed"),
    "action_volunteered": N_("Offered to take part in an action"),
    "action_rated": N_("Action rated"),
    "text_edited": N_("Text edited"),
    "exported": N_("Exported"),
}
ACTOR_KINDS = ("facilitator", "participant", "system")

# Who is acting in this thread's current request or command; the web edge and the CLI set it.
_acting: ContextVar[dict | None] = ContextVar("acting", default=None)


def act_as(kind: str, actor_id: int | None = None, label: str = ""):
    """Name who the following writes in this thread are done by."""
    _acting.set({"kind": kind, "id": actor_id, "label": label})


def stop_acting() -> None:
    """Forget who was acting, so the next request on this thread starts unnamed."""
    _acting.set(None)


def acting() -> dict:
    """Who is acting now; the system when nobody was named."""
    return _acting.get() or {"kind": "system", "id": None, "label": ""}


def record(db: Database, workshop_id: int, event: str, subject: str = "", **detail) -> None:
    """Add one entry to the workshop's log, inside the caller's transaction (or in one of its own)."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    who = acting()
    with writing(db):
        db.execute(
            "INSERT INTO audit (workshop_id, at, actor_kind, actor_id, actor, event, subject, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [workshop_id, datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
             who["kind"], who["id"], who["label"][:300].strip(), event, str(subject)[:300].strip(),
             json.dumps(detail, ensure_ascii=False, sort_keys=True)],
        )


def entries(db: Database, workshop: dict, before: int | None = None, limit: int = 200) -> list[dict]:
    """The log, newest first, a page of limit entries older than the entry id before."""
    where, params = "workshop_id = ?", [workshop["id"]]
    if before is not None:
        where += " AND id < ?"
        params.append(before)
    rows = db.query(f"SELECT * FROM audit WHERE {where} ORDER BY id DESC LIMIT ?", params + [limit])
    return [{**row, "detail": json.loads(row["detail"])} for row in rows]
