"""Participants: joining a workshop without an account, and who is in the room."""
import secrets

from sqlite_utils import Database

from toolkit.db import insert_once, writing
from toolkit.i18n import N_
from toolkit.validation import Invalid, NotFound, choice, row_id, text
from toolkit.workshop import CODE_ALPHABET, MAX_SHORT, is_closed, normalise_code, now

REJOIN_LENGTH = 10

GROUPS = (
    ("companies", N_("Companies")),
    ("education", N_("Education and training")),
    ("government", N_("Government")),
    ("workers", N_("Workers")),
    ("other", N_("Other")),
)
GROUP_KEYS = tuple(key for key, _ in GROUPS)
GROUP_LABELS = dict(GROUPS)


def join(db: Database, workshop: dict, form: dict, on_behalf=False) -> dict:
    """Add a participant from the join form (on_behalf: entered by the facilitator for someone without a device)."""
    if workshop["anonymous"]:
        name = None
    else:
        name = text(form.get("name"), "name", MAX_SHORT)
    organisation = text(form.get("organisation"), "organisation", MAX_SHORT)
    group = choice(form.get("stakeholder_group"), "stakeholder_group", GROUP_KEYS)
    token = text(form.get("request_token"), "request_token", 64, required=False) or None
    with writing(db):
        # Who took part is part of the agenda: once closed, it takes no one new.
        if not on_behalf and is_closed(db, workshop):
            raise Invalid(N_("This workshop has closed and takes no new participants."))
        participant_id = insert_once(
            db, "participants",
            {"workshop_id": workshop["id"], "name": name, "organisation": organisation,
             "stakeholder_group": group, "on_behalf": int(on_behalf), "joined_at": now()},
            token,
        )
        # A personal code to continue on another device; made once, kept on a resent form.
        db.execute("UPDATE participants SET rejoin_code = ? WHERE id = ? AND rejoin_code IS NULL",
                   [new_rejoin_code(), participant_id])
    return get(db, workshop, participant_id)


def new_rejoin_code() -> str:
    """A personal code: 10 characters without look-alikes, about 50 bits."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(REJOIN_LENGTH))


def by_rejoin_code(db: Database, workshop: dict, code) -> dict:
    """The participant of this workshop whose personal code this is (as typed), or NotFound."""
    typed = normalise_code(code)
    if len(typed) != REJOIN_LENGTH:
        raise NotFound(code)
    rows = list(db.query("SELECT * FROM participants WHERE workshop_id = ? AND rejoin_code = ?",
                         [workshop["id"], typed]))
    if not rows:
        raise NotFound(code)
    return rows[0]


def get(db: Database, workshop: dict, participant_id) -> dict:
    """The participant of this workshop with this id, or NotFound."""
    rows = list(
        db.query(
            "SELECT * FROM participants WHERE id = ? AND workshop_id = ?",
            [row_id(participant_id), workshop["id"]],
        )
    )
    if not rows:
        raise NotFound(participant_id)
    return rows[0]


def in_room(db: Database, workshop: dict) -> list[dict]:
    """Everyone who joined, in order of joining."""
    return list(
        db.query("SELECT * FROM participants WHERE workshop_id = ? ORDER BY id", [workshop["id"]])
    )


def count_by_group(db: Database, workshop: dict) -> dict:
    """How many joined per stakeholder group, every group present."""
    counts = dict.fromkeys(GROUP_KEYS, 0)
    for row in db.query(
        """SELECT stakeholder_group, count(*) AS n FROM participants
           WHERE workshop_id = ? GROUP BY stakeholder_group""",
        [workshop["id"]],
    ):
        counts[row["stakeholder_group"]] = row["n"]
    return counts

