"""Actions: what the room will do for each adopted recommendation, who leads it, and how it goes."""
import datetime
import re
import secrets

from sqlite_utils import Database

from toolkit import audit, editing, limits
from toolkit import workshop as workshops
from toolkit.db import insert_once, writing
from toolkit.i18n import N_
from toolkit.validation import Invalid, NotFound, choice, integer, row_id, text

MAX_FIELD = 500
MAX_PROGRESS = 2000
# What the room writes about an action; recommendation_id and answers_item_id are choices.
TEXT_FIELDS = ("what", "lead", "partners", "timeline", "resources", "indicator", "first_step")
FIELDS = ("recommendation_id", "what", "answers_item_id", "lead", "partners", "starts", "ends",
          "timeline", "resources", "indicator", "first_step")
FOLLOW_UP_FIELDS = ("status", "progress")
REQUIRED = ("what",)
# The kinds of item an action can answer: what drives the region and what holds it back.
ANSWERS_KINDS = ("driver", "barrier", "success_factor")
STATUSES = (
    ("planned", N_("planned")),
    ("started", N_("under way")),
    ("done", N_("done")),
    ("stopped", N_("stopped")),
)
STATUS_KEYS = tuple(key for key, _ in STATUSES)
ROLES = (("lead", N_("lead")), ("partner", N_("partner")))
# Where the room may work on actions, and where a rating scale ends.
STEPS = ("actions", "review")
SCALE = 5
THRESHOLD = 3.0
QUADRANTS = (
    ("quick_win", N_("Quick wins"), N_("High impact, little effort: start here.")),
    ("major_project", N_("Major projects"), N_("High impact, much effort: plan them well.")),
    ("fill_in", N_("Fill-ins"), N_("Little impact, little effort: do them when there is room.")),
    ("reconsider", N_("Reconsider"), N_("Little impact, much effort: rethink or drop them.")),
)
_PERIOD = re.compile(r"^(\d{4})(?:-Q([1-4])|-(\d{2})(?:-(\d{2}))?)?$", re.ASCII)


def subject(found: dict) -> str:
    """The name an action's changes are recorded under."""
    return f"action:{found['uid']}"


def adopted_recommendations(db: Database, workshop: dict, lang=None) -> list[dict]:
    """The recommendations the workshop adopted into its agenda."""
    return [
        item
        for item in workshops.items(db, workshop, kinds=("recommendation",), lang=lang)
        if item["adopted"]
    ]


def answerable(db: Database, workshop: dict, lang=None) -> list[dict]:
    """The drivers, barriers and success factors an action can say it answers."""
    return workshops.items(db, workshop, kinds=ANSWERS_KINDS, lang=lang)


def period(value, field: str) -> str:
    """A year, quarter, month or day as typed ("2027", "Q2 2027", "2027-03") in one stored form."""
    value = text(value, field, 20, required=False).upper().replace(" ", "-").replace("/", "-")
    if not value:
        return ""
    quarter = re.fullmatch(r"Q([1-4])-(\d{4})", value)
    if quarter:
        value = f"{quarter.group(2)}-Q{quarter.group(1)}"
    try:
        if not _PERIOD.match(value):
            raise ValueError(value)
        # Its first and last day must exist: year 0 or 9999-Q4 would break every page showing it.
        period_bounds(value)
    except ValueError:
        raise Invalid(N_("Please enter a year, quarter, month or date, such as 2027, 2027-Q2, "
                         "2027-03 or 2027-03-15."), field) from None
    return value


def period_bounds(value: str) -> tuple[datetime.date, datetime.date]:
    """The first and last day of a stored period."""
    year, quarter, month, day = _PERIOD.match(value).groups()
    year = int(year)
    if day:
        first = last = datetime.date(year, int(month), int(day))
    elif month:
        first = datetime.date(year, int(month), 1)
        last = _month_end(year, int(month))
    elif quarter:
        first = datetime.date(year, 3 * int(quarter) - 2, 1)
        last = _month_end(year, 3 * int(quarter))
    else:
        first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    return first, last


def _month_end(year: int, month: int) -> datetime.date:
    following = datetime.date(year + month // 12, month % 12 + 1, 1)
    return following - datetime.timedelta(days=1)


def check(db: Database, workshop: dict, form: dict, current: dict | None = None) -> dict:
    """The action's fields from a form, checked against the workshop's items (and current, if an edit).

    An edit may keep the recommendation and the item the action already had, even once
    taken out of the agenda, hidden or merged: saving another field must not move or lose them.
    """
    kept = current or {}
    try:
        recommendation_id = row_id(form.get("recommendation_id"))
    except NotFound:
        recommendation_id = 0
    offered = {r["id"] for r in adopted_recommendations(db, workshop)} | {kept.get("recommendation_id")}
    if recommendation_id not in offered:
        raise Invalid(N_("Please choose one of the adopted recommendations."), "recommendation_id")
    values = {"recommendation_id": recommendation_id}
    for field in TEXT_FIELDS:
        values[field] = text(form.get(field), field, MAX_FIELD, required=field in REQUIRED)
    answers = str(form.get("answers_item_id") or "").strip()
    values["answers_item_id"] = None
    if answers:
        try:
            answers_id = row_id(answers)
        except NotFound:
            answers_id = 0
        if answers_id not in {i["id"] for i in answerable(db, workshop)} | {kept.get("answers_item_id")}:
            raise Invalid(N_("Please choose one of the drivers, barriers or success factors."),
                          "answers_item_id")
        values["answers_item_id"] = answers_id
    values["starts"] = period(form.get("starts"), "starts")
    values["ends"] = period(form.get("ends"), "ends")
    if values["starts"] and values["ends"] and (
        period_bounds(values["ends"])[1] < period_bounds(values["starts"])[0]
    ):
        raise Invalid(N_("The end cannot come before the start."), "ends")
    return {field: values[field] for field in FIELDS}


def check_follow_up(form: dict) -> dict:
    """The status and progress notes from a follow-up form, checked."""
    return {
        "status": choice(form.get("status"), "status", STATUS_KEYS),
        "progress": text(form.get("progress"), "progress", MAX_PROGRESS, required=False),
    }


def room_may_work(db: Database, workshop: dict) -> bool:
    """Whether participants may propose, edit, rate and volunteer now."""
    return (
        not workshop.get("closed_at")
        and workshop["step"] in STEPS
        and not workshops.is_locked(db, workshop, workshop["step"])
    )


def _guard(db: Database, workshop: dict, by: dict) -> None:
    # Called inside the write, on the workshop as stored now: the facilitator may have
    # closed or locked it since this request began.
    if by.get("participant_id") is not None and not room_may_work(db, workshops.get(db, workshop["id"])):
        raise Invalid(N_("Working on actions is not open now."), "what")


def propose(db: Database, workshop: dict, form: dict, participant_id=None, facilitator_id=None) -> dict:
    """Add an action; a retried form with the same request token adds nothing."""
    by = {"participant_id": participant_id, "facilitator_id": facilitator_id}
    token = text(form.get("request_token"), "request_token", 64, required=False) or None
    with writing(db):
        _guard(db, workshop, by)
        limits.room_for(db, "actions", "workshop_id = ?", [workshop["id"]], "what")
        values = check(db, workshop, form)
        at = workshops.now()
        action_id = insert_once(
            db, "actions",
            {"workshop_id": workshop["id"], **values, "proposed_by": participant_id,
             "created_at": at, "uid": secrets.token_hex(16)},
            token,
        )
        made = get(db, workshop, action_id)
        if editing.snapshot(db, workshop, subject(made), 1) is None:
            editing.record(db, workshop, subject(made), 1, "created", None, _record(made), by, at)
    return get(db, workshop, action_id)


def _record(row: dict) -> dict:
    """The parts of an action its history keeps."""
    return {field: row[field] for field in FIELDS + FOLLOW_UP_FIELDS}


def edit(db: Database, workshop: dict, action_id, form: dict, participant_id=None,
         facilitator_id=None, follow_up=False) -> dict:
    """Save an edit made from the version the form names; a collision raises editing.Conflict.

    Changes to other fields made in between are kept; the same field changed two ways is
    never decided here, the person who saves second chooses.
    """
    by = {"participant_id": participant_id, "facilitator_id": facilitator_id}
    fields = FOLLOW_UP_FIELDS if follow_up else FIELDS
    with writing(db):
        _guard(db, workshop, by)
        current = get(db, workshop, action_id)
        mine = check_follow_up(form) if follow_up else check(db, workshop, form, current)
        base_version = integer(form.get("version"), "version", 1, 2**62)
        before = _record(current)
        if base_version != current["version"]:
            base = editing.snapshot(db, workshop, subject(current), base_version)
            merged, collisions = editing.merge(base, before, mine, fields)
            if collisions:
                raise editing.Conflict(before, mine, collisions, {**before, **merged},
                                       editing.last_edit(db, workshop, subject(current)), current["version"])
            mine = merged
        after = {**before, **mine}
        if after == before:
            return current
        at = workshops.now()
        version = current["version"] + 1
        extra = {"progress_at": at} if follow_up else {}
        db["actions"].update(current["id"], {**mine, "version": version, "updated_at": at, **extra})
        editing.record(db, workshop, subject(current), version, "edited", before, after, by, at)
    return get(db, workshop, current["id"])


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


def remove(db: Database, workshop: dict, action_id, facilitator_id=None) -> dict:
    """Delete an action of this workshop; its history keeps what it said."""
    with writing(db):
        target = get(db, workshop, action_id)
        editing.record(db, workshop, subject(target), target["version"] + 1, "removed",
                       _record(target), {}, {"facilitator_id": facilitator_id}, workshops.now())
        db.execute("DELETE FROM actions WHERE id = ?", [target["id"]])
    return target


def volunteer(db: Database, workshop: dict, action_id, participant_id: int, role) -> None:
    """A participant offers their organisation as lead or partner; role "" withdraws the offer."""
    role = str(role or "").strip()
    with writing(db):
        _guard(db, workshop, {"participant_id": participant_id})
        if role:
            role = choice(role, "role", [key for key, _ in ROLES])
        target = get(db, workshop, action_id)
        db.execute("DELETE FROM action_volunteers WHERE action_id = ? AND participant_id = ?",
                   [target["id"], participant_id])
        if role:
            db["action_volunteers"].insert({
                "action_id": target["id"], "participant_id": participant_id, "role": role,
                "created_at": workshops.now(),
            })
        audit.record(db, workshop["id"], "action_volunteered", target["what"], action=target["id"],
                     role=role or None)


def volunteers(db: Database, workshop: dict) -> dict[int, list[dict]]:
    """Per action, who volunteered: organisation, role and participant, in order of offering."""
    found: dict[int, list[dict]] = {}
    for row in db.query(
        """SELECT v.action_id, v.role, v.participant_id, p.name, p.organisation
           FROM action_volunteers v JOIN participants p ON p.id = v.participant_id
           JOIN actions a ON a.id = v.action_id
           WHERE a.workshop_id = ? ORDER BY v.created_at, p.id""",
        [workshop["id"]],
    ):
        found.setdefault(row["action_id"], []).append(row)
    return found


def rate(db: Database, workshop: dict, action_id, participant_id: int, form: dict) -> dict:
    """A participant's rating of an action's impact and effort, from 1 to 5; a new one replaces it."""
    with writing(db):
        _guard(db, workshop, {"participant_id": participant_id})
        impact = integer(form.get("impact"), "impact", 1, SCALE)
        effort = integer(form.get("effort"), "effort", 1, SCALE)
        target = get(db, workshop, action_id)
        db.execute(
            """INSERT INTO action_ratings (action_id, participant_id, impact, effort, updated_at)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (action_id, participant_id) DO UPDATE SET
               impact = excluded.impact, effort = excluded.effort, updated_at = excluded.updated_at""",
            [target["id"], participant_id, impact, effort, workshops.now()],
        )
        audit.record(db, workshop["id"], "action_rated", target["what"], action=target["id"],
                     impact=impact, effort=effort)
    return {"impact": impact, "effort": effort}


def my_ratings(db: Database, participant_id: int) -> dict[int, dict]:
    """A participant's ratings per action."""
    return {
        row["action_id"]: row
        for row in db.query("SELECT * FROM action_ratings WHERE participant_id = ?", [participant_id])
    }


def ratings(db: Database, workshop: dict) -> dict[int, dict]:
    """Per rated action: mean impact, mean effort, how many rated, and its quadrant."""
    found = {}
    for row in db.query(
        """SELECT r.action_id, avg(r.impact) AS impact, avg(r.effort) AS effort, count(*) AS ratings
           FROM action_ratings r JOIN actions a ON a.id = r.action_id
           WHERE a.workshop_id = ? GROUP BY r.action_id""",
        [workshop["id"]],
    ):
        row["impact"] = round(row["impact"], 2)
        row["effort"] = round(row["effort"], 2)
        row["quadrant"] = quadrant(row["impact"], row["effort"])
        found[row["action_id"]] = row
    return found


def quadrant(impact: float | None, effort: float | None) -> str | None:
    """Where a mean rating falls in the impact and effort matrix."""
    if impact is None or effort is None:
        return None
    high_impact, high_effort = impact >= THRESHOLD, effort >= THRESHOLD
    if high_impact:
        return "major_project" if high_effort else "quick_win"
    return "reconsider" if high_effort else "fill_in"
