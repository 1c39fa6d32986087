"""Participants: joining a workshop without an account, and who is in the room."""
import secrets

from sqlite_utils import Database

from toolkit import audit, limits
from toolkit.db import insert_new, writing
from toolkit.i18n import N_
from toolkit.validation import Invalid, NotFound, choice, row_id, text
from toolkit.workshop import CODE_ALPHABET, MAX_SHORT, get as get_workshop, is_closed, normalise_code, now

REJOIN_LENGTH = 10
# Failed codes (a workshop's or a personal one) per client before it must wait; generous for a
# room behind one address where some mistype, far too few to guess a live code.
JOIN_FAILURES_PER_CLIENT = 60
# New participants per client: a venue's whole network may share one address.
JOINS_PER_CLIENT = 300
JOIN_WINDOW = 10 * 60

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
        if not on_behalf and get_workshop(db, workshop["id"])["joining_closed"]:
            raise Invalid(N_("The facilitator has closed joining for this workshop."))
        limits.participants(db, workshop)
        participant_id, new = insert_new(
            db, "participants",
            {"workshop_id": workshop["id"], "name": name, "organisation": organisation,
             "stakeholder_group": group, "on_behalf": int(on_behalf), "joined_at": now()},
            token,
        )
        # A personal code to continue on another device; made once, kept on a resent form.
        db.execute("UPDATE participants SET rejoin_code = ? WHERE id = ? AND rejoin_code IS NULL",
                   [new_rejoin_code(), participant_id])
        if new:
            # Names only ever in a field called name, which anonymising empties (see privacy).
            audit.record(db, workshop["id"], "joined", organisation, participant=participant_id, name=name,
                         group=group, on_behalf=bool(on_behalf))
    return get(db, workshop, participant_id)


def label(workshop: dict, participant: dict) -> str:
    """How the audit log names a participant: the organisation, with the name unless anonymous."""
    if workshop["anonymous"] or not participant.get("name"):
        return participant["organisation"]
    return f"{participant['name']} ({participant['organisation']})"


def session_key(db: Database, participant: dict) -> str:
    """The secret that binds a browser to this participant, made on first use."""
    if participant.get("session_key"):
        return participant["session_key"]
    with writing(db):
        db.execute("UPDATE participants SET session_key = ? WHERE id = ? AND session_key IS NULL",
                   [secrets.token_urlsafe(16), participant["id"]])
        return db.execute("SELECT session_key FROM participants WHERE id = ?", [participant["id"]]).fetchone()[0]


def remove(db: Database, workshop: dict, participant_id) -> dict:
    """Take someone out of the workshop: their votes, ratings, offers and comments go; their session ends.

    Items and actions they proposed stay, as the room may have voted on them.
    """
    with writing(db):
        found = get(db, workshop, participant_id)
        db.execute("DELETE FROM comments WHERE participant_id = ?", [found["id"]])
        db.execute("DELETE FROM participants WHERE id = ?", [found["id"]])
        # The name goes in a field called name, which anonymising empties: once removed, the
        # person's name is known nowhere else to scrub it by.
        audit.record(db, workshop["id"], "participant_removed", found["organisation"], participant=found["id"],
                     name=None if workshop["anonymous"] else found["name"])
    return found


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


def rejoin(db: Database, workshop: dict, code) -> dict:
    """The participant whose personal code this is, continuing on another device; logged."""
    found = by_rejoin_code(db, workshop, code)
    audit.record(db, workshop["id"], "rejoined", found["organisation"], participant=found["id"],
                 name=None if workshop["anonymous"] else found["name"])
    return found


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


def room_now(db: Database, workshop_id: int, participant_id: int, session_key: str) -> tuple[int, str, str] | None:
    """The workshop's revision, step and language, if this participant is still in it under this session key."""
    return db.execute(
        "SELECT w.revision, w.step, w.language FROM participants p JOIN workshops w ON w.id = p.workshop_id"
        " WHERE p.id = ? AND p.workshop_id = ? AND p.session_key = ?",
        [participant_id, workshop_id, session_key],
    ).fetchone()


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

