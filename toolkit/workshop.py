"""Workshops: preparing one, its join code, its steps and the items it votes on."""
import datetime
import secrets

from sqlite_utils import Database

from toolkit import audit, catalogue, limits
from toolkit.db import insert_new, writing
from toolkit.i18n import LANGUAGES, N_
from toolkit.validation import Invalid, NotFound, choice, integer, row_id, text

# The workshop flow, in order; a step's key never changes once a workshop used it.
STEPS = (
    ("welcome", N_("Welcome and context")),
    ("drivers", N_("Drivers")),
    ("barriers", N_("Barriers and success factors")),
    ("recommendations", N_("Recommendations")),
    ("actions", N_("Actions")),
    ("review", N_("Review and export")),
)
STEP_KEYS = tuple(key for key, _ in STEPS)
STEP_LABELS = dict(STEPS)
# Which kinds of item each voting step puts to the room.
STEP_KINDS = {
    "drivers": ("driver",),
    "barriers": ("barrier", "success_factor"),
    "recommendations": ("recommendation",),
}
KIND_STEP = {kind: step for step, kinds in STEP_KINDS.items() for kind in kinds}

# No look-alikes (0/O, 1/I/L) so a code read off a projector is typed right first time.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
# 31 ** 9 is about 2 ** 44.6: with joins throttled per client, guessing a live code takes
# longer than any workshop lasts. Read out and shown in three groups of three.
CODE_LENGTH = 9

MAX_TITLE = 200
MAX_SHORT = 120
MAX_EXPLANATION = 1000


def now() -> str:
    """The current UTC time as ISO text, for created_at columns."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def new_code() -> str:
    """A random join code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def spaced_code(code: str) -> str:
    """A join code in groups of three, as shown to people who type it."""
    return " ".join(code[start:start + 3] for start in range(0, len(code), 3))


def normalise_code(code) -> str:
    """A join code as typed (any case, spaces, dashes) in its stored form."""
    return "".join(str(code or "").split()).replace("-", "").upper()[:20]


def check_details(form: dict) -> dict:
    """The workshop fields from a form, checked; raises Invalid for the first wrong one."""
    date = text(form.get("date"), "date", 10)
    try:
        # Stored in one form, so that it sorts and reads the same whatever was typed.
        date = datetime.date.fromisoformat(date).isoformat()
    except ValueError:
        raise Invalid(N_("Please enter a date as YYYY-MM-DD."), "date") from None
    return {
        "title": text(form.get("title"), "title", MAX_TITLE),
        "region": text(form.get("region"), "region", MAX_SHORT),
        "sector": text(form.get("sector"), "sector", MAX_SHORT),
        "date": date,
        "language": choice(form.get("language"), "language", LANGUAGES),
        "dots": integer(form.get("dots"), "dots", 1, 20),
        "anonymous": 1 if str(form.get("anonymous", "")).lower() in ("1", "on", "true", "yes") else 0,
    }


def create(db: Database, facilitator_id: int, form: dict) -> dict:
    """Create a workshop with the study's votable items in it; returns the workshop."""
    details = check_details(form)
    with writing(db):
        limits.room_for(db, "workshops", "facilitator_id = ?", [facilitator_id], "title")
        while True:
            code = new_code()
            if not db.execute("SELECT 1 FROM workshops WHERE code = ?", [code]).fetchone():
                break
        workshop_id = db["workshops"].insert(
            {**details, "code": code, "facilitator_id": facilitator_id,
             "step": STEP_KEYS[0], "created_at": now()}
        ).last_pk
        placeholders = ",".join("?" for _ in catalogue.VOTABLE_KINDS)
        db.execute(
            f"""INSERT INTO items (workshop_id, kind, catalogue_id, created_at)
                SELECT ?, kind, id, ? FROM catalogue_items
                WHERE kind IN ({placeholders}) ORDER BY position""",
            [workshop_id, now(), *catalogue.VOTABLE_KINDS],
        )
        audit.record(db, workshop_id, "workshop_created", details["title"])
    return get(db, workshop_id)


def update(db: Database, workshop_id: int, form: dict) -> dict:
    """Change a workshop's details; the budget never drops below dots already placed."""
    details = check_details(form)
    with writing(db):
        spent = most_dots_spent(db, {"id": workshop_id})
        if details["dots"] < spent:
            raise Invalid(
                N_("Participants have already placed up to %(spent)d dots in a step; choose at least that many."),
                "dots", spent=spent,
            )
        db["workshops"].update(workshop_id, details)
        audit.record(db, workshop_id, "workshop_edited", details["title"])
    return get(db, workshop_id)


def most_dots_spent(db: Database, workshop: dict) -> int:
    """The most dots any participant has placed in any one step: the lowest budget that still fits."""
    most = 0
    for step, kinds in STEP_KINDS.items():
        method = db.execute("SELECT method FROM step_settings WHERE workshop_id = ? AND step = ?",
                            [workshop["id"], step]).fetchone()
        if method and method[0] == "points":
            continue  # points are shared out of 100, not out of the workshop's dots
        placeholders = ",".join("?" for _ in kinds)
        row = db.execute(
            f"""SELECT coalesce(max(spent), 0) FROM (
                    SELECT sum(v.dots) AS spent FROM votes v JOIN items i ON i.id = v.item_id
                    WHERE i.workshop_id = ? AND i.kind IN ({placeholders})
                    GROUP BY v.participant_id)""",
            [workshop["id"], *kinds],
        ).fetchone()
        most = max(most, row[0])
    return most


def get(db: Database, workshop_id: int) -> dict:
    """The workshop with this id, or NotFound."""
    rows = list(db.query("SELECT * FROM workshops WHERE id = ?", [workshop_id]))
    if not rows:
        raise NotFound(workshop_id)
    return rows[0]


def by_code(db: Database, code) -> dict:
    """The workshop with this join code (as typed), or NotFound."""
    rows = list(db.query("SELECT * FROM workshops WHERE code = ?", [normalise_code(code)]))
    if not rows:
        raise NotFound(code)
    return rows[0]


def for_facilitator(db: Database, facilitator_id: int) -> list[dict]:
    """The workshops the facilitator owns or co-facilitates, newest first, with how many joined."""
    return list(
        db.query(
            """SELECT w.*, (SELECT count(*) FROM participants p WHERE p.workshop_id = w.id)
                   AS participant_count
               FROM workshops w WHERE facilitator_id = ? OR id IN
                   (SELECT workshop_id FROM workshop_facilitators WHERE facilitator_id = ?)
               ORDER BY w.date DESC, w.id DESC""",
            [facilitator_id, facilitator_id],
        )
    )


def owned(db: Database, code, facilitator_id: int) -> dict:
    """The workshop with this code if the facilitator owns or co-facilitates it; else like a missing one."""
    workshop = by_code(db, code)
    if not runs(db, workshop, facilitator_id):
        raise NotFound(code)
    return workshop


def runs(db: Database, workshop: dict, facilitator_id) -> bool:
    """Whether the facilitator owns or co-facilitates the workshop."""
    return workshop["facilitator_id"] == facilitator_id or db.execute(
        "SELECT 1 FROM workshop_facilitators WHERE workshop_id = ? AND facilitator_id = ?",
        [workshop["id"], facilitator_id],
    ).fetchone() is not None


def owned_by(db: Database, code, facilitator_id: int) -> dict:
    """The workshop with this code if the facilitator is its owner; co-facilitators get NotFound."""
    workshop = by_code(db, code)
    if workshop["facilitator_id"] != facilitator_id:
        raise NotFound(code)
    return workshop


def set_step(db: Database, workshop_id: int, step: str) -> None:
    """Move the workshop to step."""
    step = choice(step, "step", STEP_KEYS)
    with writing(db):
        db.execute("UPDATE workshops SET step = ? WHERE id = ?", [step, workshop_id])
        audit.record(db, workshop_id, "step_changed", step)


def neighbour_steps(step: str) -> tuple[str | None, str | None]:
    """The steps before and after step, or None at either end."""
    index = STEP_KEYS.index(step)
    before = STEP_KEYS[index - 1] if index > 0 else None
    after = STEP_KEYS[index + 1] if index + 1 < len(STEP_KEYS) else None
    return before, after


def _item_row(row: dict, lang: str) -> dict:
    """An item with its texts: the study's in lang, or the workshop's own."""
    own = row["catalogue_id"] is None
    return {
        "id": row["id"],
        "kind": row["kind"],
        "catalogue_id": row["catalogue_id"],
        "title": row["title"] if own else row[f"title_{lang}"],
        "explanation": (row["explanation"] or "") if own else row[f"explanation_{lang}"],
        "origin": "workshop" if own else ("derived" if row["source_type"] == "derived" else "study"),
        "source": None if own else row[f"source_{lang}"],
        "reference": None if own else row["reference"],
        "derived_from": row.get("derived_title"),
        "hidden": bool(row["hidden"]),
        "adopted": bool(row["adopted"]),
        "added_by": row["added_by"],
        "merged_into": row["merged_into"],
        "on_behalf": bool(row["on_behalf"]),
    }


def items(db: Database, workshop: dict, kinds=None, include_hidden=False, lang=None,
          item_id=None) -> list[dict]:
    """The workshop's items (of kinds), study items in the study's order, then the room's own."""
    lang = lang or workshop["language"]
    kinds = kinds or catalogue.VOTABLE_KINDS
    placeholders = ",".join("?" for _ in kinds)
    hidden = "" if include_hidden else "AND i.hidden = 0"
    one = "" if item_id is None else "AND i.id = ?"
    rows = db.query(
        f"""SELECT i.*, c.title_nl, c.title_en, c.explanation_nl, c.explanation_en,
                   c.source_type, c.source_nl, c.source_en, c.reference,
                   d.title_{lang} AS derived_title
            FROM items i
            LEFT JOIN catalogue_items c ON c.id = i.catalogue_id
            LEFT JOIN catalogue_items d ON d.id = c.derived_from
            WHERE i.workshop_id = ? AND i.kind IN ({placeholders}) {hidden} {one}
            ORDER BY c.position IS NULL, c.position, i.id""",
        [workshop["id"], *kinds, *([] if item_id is None else [item_id])],
    )
    return [_item_row(row, lang) for row in rows]


def item(db: Database, workshop: dict, item_id, include_hidden=False) -> dict:
    """One item of this workshop; an item of another workshop is NotFound."""
    item_id = row_id(item_id)
    found = items(db, workshop, include_hidden=include_hidden, item_id=item_id)
    if not found:
        raise NotFound(item_id)
    return found[0]


def add_item(db: Database, workshop: dict, form: dict, kinds, participant_id=None) -> dict:
    """Add the room's own item of one of kinds; a retried form with the same token adds nothing."""
    kind = choice(form.get("kind") or kinds[0], "kind", kinds)
    title = text(form.get("title"), "title", MAX_TITLE)
    explanation = text(form.get("explanation"), "explanation", MAX_EXPLANATION, required=False)
    token = text(form.get("request_token"), "request_token", 64, required=False) or None
    on_behalf = participant_id is not None and bool(db.execute(
        "SELECT on_behalf FROM participants WHERE id = ?", [participant_id]).fetchone()[0])
    with writing(db):
        # Read inside the write: a step locked or a workshop closed a moment ago takes nothing more.
        if participant_id is not None and is_locked(db, get(db, workshop["id"]), KIND_STEP[kind]):
            raise Invalid(N_("The facilitator has locked this step."), "title")
        limits.room_for(db, "room_items", "workshop_id = ? AND catalogue_id IS NULL", [workshop["id"]], "title")
        item_id, new = insert_new(
            db, "items",
            {"workshop_id": workshop["id"], "kind": kind, "title": title, "explanation": explanation,
             "added_by": participant_id, "on_behalf": int(on_behalf), "created_at": now()},
            token,
        )
        if new:
            audit.record(db, workshop["id"], "item_added", title, item=item_id, kind=kind)
    return item(db, workshop, item_id, include_hidden=True)


def is_locked(db: Database, workshop: dict, step: str) -> bool:
    """Whether the facilitator locked step (or closed the workshop): nothing more from the room."""
    if workshop.get("closed_at"):
        return True
    row = db.execute("SELECT locked FROM step_settings WHERE workshop_id = ? AND step = ?",
                     [workshop["id"], step]).fetchone()
    return bool(row and row[0])


def is_closed(db: Database, workshop: dict) -> bool:
    """Whether the facilitator has closed the workshop, as stored now: the room reads, no longer writes."""
    row = db.execute("SELECT closed_at FROM workshops WHERE id = ?", [workshop["id"]]).fetchone()
    return bool(row and row[0])


def set_flag(db: Database, workshop: dict, item_id, flag: str, value: bool) -> dict:
    """Set an item's hidden flag (out of the room's sight, votes kept) or adopted flag (in the agenda)."""
    if flag not in ("hidden", "adopted"):
        raise ValueError(flag)
    target = item(db, workshop, item_id, include_hidden=True)
    if target["merged_into"]:
        raise Invalid(N_("This item has already been merged into another."), flag)
    with writing(db):
        db.execute(f"UPDATE items SET {flag} = ? WHERE id = ?", [int(value), target["id"]])
        event = {("hidden", True): "item_hidden", ("hidden", False): "item_shown",
                 ("adopted", True): "item_adopted", ("adopted", False): "item_dropped"}[flag, bool(value)]
        audit.record(db, workshop["id"], event, target["title"], item=target["id"])
    return item(db, workshop, target["id"], include_hidden=True)


def set_hidden(db: Database, workshop: dict, item_id, hidden: bool) -> dict:
    """Hide an item from the room (or show it again); its votes are kept."""
    return set_flag(db, workshop, item_id, "hidden", hidden)


def set_adopted(db: Database, workshop: dict, item_id, adopted: bool) -> dict:
    """Adopt an item into the agenda, or take it out again."""
    return set_flag(db, workshop, item_id, "adopted", adopted)


def set_joining_closed(db: Database, workshop: dict, closed: bool) -> dict:
    """Stop newcomers joining (those in the room stay and can continue on another device) or let them in."""
    with writing(db):
        db.execute("UPDATE workshops SET joining_closed = ? WHERE id = ?", [int(closed), workshop["id"]])
        audit.record(db, workshop["id"], "joining_closed" if closed else "joining_opened")
    return get(db, workshop["id"])


def set_closed(db: Database, workshop: dict, closed: bool) -> dict:
    """Close a workshop to the room (its agenda stays the facilitator's to follow up) or reopen it."""
    with writing(db):
        db.execute("UPDATE workshops SET closed_at = ? WHERE id = ?",
                   [now() if closed else None, workshop["id"]])
        audit.record(db, workshop["id"], "workshop_closed" if closed else "workshop_reopened")
    return get(db, workshop["id"])
