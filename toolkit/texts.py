"""The agenda's own texts that the group writes together: a vision, a summary, next steps."""
from sqlite_utils import Database

from toolkit import action as actions
from toolkit import editing
from toolkit import workshop as workshops
from toolkit.db import writing
from toolkit.i18n import N_
from toolkit.validation import Invalid, NotFound, integer, text

MAX_TEXT = 5000
TEXTS = (
    ("vision", N_("Our vision"), N_("Where the region wants to be in a few years, in a few sentences.")),
    ("summary", N_("Summary"), N_("The agenda in half a page, for readers in a hurry.")),
    ("next_steps", N_("Next steps"), N_("What happens after this workshop, and who does it.")),
)
KEYS = tuple(key for key, _label, _hint in TEXTS)


def subject(key: str) -> str:
    """The name a text's changes are recorded under."""
    return f"text:{key}"


def _key(key) -> str:
    if key not in KEYS:
        raise NotFound(key)
    return key


def all_texts(db: Database, workshop: dict) -> dict[str, dict]:
    """Every text of the workshop with its version; an unwritten one is empty at version 0."""
    found = {key: {"key": key, "body": "", "version": 0, "updated_at": None} for key in KEYS}
    for row in db.query("SELECT * FROM agenda_texts WHERE workshop_id = ?", [workshop["id"]]):
        found[row["key"]] = row
    return found


def save(db: Database, workshop: dict, key, form: dict, participant_id=None, facilitator_id=None) -> dict:
    """Save a text written from the version the form names; a collision raises editing.Conflict."""
    key = _key(key)
    by = {"participant_id": participant_id, "facilitator_id": facilitator_id}
    with writing(db):
        # The room writes its texts whenever it may work on actions, judged on the workshop as
        # stored now: the facilitator may have closed it since this request began.
        stored = workshops.get(db, workshop["id"])
        if participant_id is not None and not actions.room_may_work(db, stored):
            raise Invalid(N_("Writing the agenda's texts is not open now."), "body")
        body = text(form.get("body"), "body", MAX_TEXT, required=False)
        base_version = integer(form.get("version"), "version", 0, 2**62)
        current = all_texts(db, workshop)[key]
        before = {"body": current["body"]}
        mine = {"body": body}
        if base_version != current["version"]:
            base = {"body": ""} if base_version == 0 else editing.snapshot(
                db, workshop, subject(key), base_version)
            merged, collisions = editing.merge(base, before, mine, ["body"])
            if collisions:
                raise editing.Conflict(before, mine, collisions, merged,
                                       editing.last_edit(db, workshop, subject(key)), current["version"])
            mine = merged
        if mine == before:
            return current
        at = workshops.now()
        version = current["version"] + 1
        db.execute(
            """INSERT INTO agenda_texts (workshop_id, key, body, version, updated_at)
               VALUES (?, ?, ?, ?, ?) ON CONFLICT (workshop_id, key) DO UPDATE SET
               body = excluded.body, version = excluded.version, updated_at = excluded.updated_at""",
            [workshop["id"], key, mine["body"], version, at],
        )
        editing.record(db, workshop, subject(key), version, "created" if version == 1 else "edited",
                       before if version > 1 else None, mine, by, at)
    return all_texts(db, workshop)[key]
