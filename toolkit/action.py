"""Actions: what the room will do for each adopted recommendation, and who leads it."""
from sqlite_utils import Database

from toolkit import workshop as workshops
from toolkit.db import insert_once, writing
from toolkit.i18n import N_
from toolkit.validation import Invalid, NotFound, row_id, text

MAX_FIELD = 500
FIELDS = ("what", "lead", "partners", "timeline", "resources", "indicator")
REQUIRED = ("what", "lead")


def adopted_recommendations(db: Database, workshop: dict, lang=None) -> list[dict]:
    """The recommendations the workshop adopted into its agenda."""
    return [
        item
        for item in workshops.items(db, workshop, kinds=("recommendation",), lang=lang)
        if item["adopted"]
    ]


def check(db: Database, workshop: dict, form: dict) -> dict:
    """The action's fields from a form, checked against the workshop's adopted recommendations."""
    try:
        recommendation_id = row_id(form.get("recommendation_id"))
    except NotFound:
        recommendation_id = 0
    if recommendation_id not in {r["id"] for r in adopted_recommendations(db, workshop)}:
        raise Invalid(N_("Please choose one of the adopted recommendations."), "recommendation_id")
    values = {"recommendation_id": recommendation_id}
    for field in FIELDS:
        values[field] = text(form.get(field), field, MAX_FIELD, required=field in REQUIRED)
    return values


def propose(db: Database, workshop: dict, form: dict, participant_id=None) -> dict:
    """Add an action; a retried form with the same request token adds nothing."""
    if participant_id is not None and (
        workshop["step"] != "actions" or workshops.is_locked(db, workshop, "actions")
    ):
        raise Invalid(N_("Proposing actions is not open now."), "what")
    values = check(db, workshop, form)
    token = text(form.get("request_token"), "request_token", 64, required=False) or None
    action_id = insert_once(
        db, "actions",
        {"workshop_id": workshop["id"], **values, "proposed_by": participant_id,
         "created_at": workshops.now()},
        token,
    )
    return get(db, workshop, action_id)


def for_workshop(db: Database, workshop: dict) -> list[dict]:
    """The workshop's actions, grouped by recommendation in the study's order.

    in_agenda says whether its recommendation is still adopted and shown; actions of a
    recommendation taken out of the agenda are kept, not lost, but left out of it.
    """
    return list(
        db.query(
            """SELECT a.*, (i.adopted AND NOT i.hidden) AS in_agenda FROM actions a
               JOIN items i ON i.id = a.recommendation_id
               LEFT JOIN catalogue_items c ON c.id = i.catalogue_id
               WHERE a.workshop_id = ?
               ORDER BY c.position IS NULL, c.position, i.id, a.id""",
            [workshop["id"]],
        )
    )


def get(db: Database, workshop: dict, action_id) -> dict:
    """One action of this workshop, or NotFound."""
    rows = list(
        db.query("SELECT * FROM actions WHERE id = ? AND workshop_id = ?",
                 [row_id(action_id), workshop["id"]])
    )
    if not rows:
        raise NotFound(action_id)
    return rows[0]


def remove(db: Database, workshop: dict, action_id) -> None:
    """Delete an action of this workshop."""
    target = get(db, workshop, action_id)
    with writing(db):
        db.execute("DELETE FROM actions WHERE id = ?", [target["id"]])
