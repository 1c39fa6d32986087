"""Dot voting: a participant's dots per item within the step's budget, and the tallies."""
from sqlite_utils import Database

from toolkit import step as steps
from toolkit import workshop as workshops
from toolkit import audit
from toolkit.db import writing
from toolkit.i18n import N_
from toolkit.participant import GROUP_KEYS
from toolkit.validation import Invalid, integer


def _step_kinds(step: str):
    return workshops.STEP_KINDS.get(step, ())


def dots_used(db: Database, workshop: dict, participant_id: int, step: str) -> int:
    """How many dots the participant has placed on the items of step."""
    kinds = _step_kinds(step)
    if not kinds:
        return 0
    placeholders = ",".join("?" for _ in kinds)
    row = db.execute(
        f"""SELECT coalesce(sum(v.dots), 0) FROM votes v JOIN items i ON i.id = v.item_id
            WHERE v.participant_id = ? AND i.workshop_id = ? AND i.kind IN ({placeholders})""",
        [participant_id, workshop["id"], *kinds],
    ).fetchone()
    return row[0]


def my_dots(db: Database, participant_id: int) -> dict:
    """The participant's dots per item id."""
    return {
        row["item_id"]: row["dots"]
        for row in db.query("SELECT item_id, dots FROM votes WHERE participant_id = ?", [participant_id])
    }


def set_dots(db: Database, workshop: dict, participant_id: int, item_id, dots) -> dict:
    """Put exactly dots of the participant's dots on an item of the current step.

    Setting a number rather than adding one makes a retried or doubled request harmless.
    """
    target = workshops.item(db, workshop, item_id, include_hidden=True)
    dots = integer(dots, "dots", 0, steps.POINTS)
    with writing(db):
        # Inside the IMMEDIATE transaction nobody else can spend this participant's dots,
        # and the step, lock, method and budget read here are the ones in force.
        current_workshop = workshops.get(db, workshop["id"])
        step = current_workshop["step"]
        if workshops.KIND_STEP.get(target["kind"]) != step:
            raise Invalid(N_("Voting on this item is not open now."), "dots")
        rules = steps.settings(db, current_workshop, step)
        if rules["locked"]:
            raise Invalid(N_("The facilitator has locked this step."), "dots")
        budget = rules["budget"]
        current = db.execute(
            "SELECT dots FROM votes WHERE participant_id = ? AND item_id = ?",
            [participant_id, target["id"]],
        ).fetchone()
        current = current[0] if current else 0
        if target["hidden"] and dots > current:
            # Dots on an item the facilitator hid can be taken back, not added.
            raise Invalid(N_("The facilitator has taken this item out of the vote."), "dots")
        others = dots_used(db, workshop, participant_id, step) - current
        if dots > current and others + dots > budget:
            if rules["method"] == "points":
                raise Invalid(N_("That is more than the %(budget)d points you have. Take points "
                                 "from another item first."), "dots", budget=budget)
            raise Invalid(
                N_("You have no dots left. Take a dot back from another item first."), "dots"
            )
        if dots > current and rules["cap"] and dots > rules["cap"]:
            raise Invalid(N_("At most %(cap)d per item in this step."), "dots", cap=rules["cap"])
        if dots != current:
            event = "vote_cast" if not current else "vote_taken_back" if not dots else "vote_changed"
            audit.record(db, workshop["id"], event, target["title"], item=target["id"], before=current,
                         after=dots)
        if dots == 0:
            db.execute(
                "DELETE FROM votes WHERE participant_id = ? AND item_id = ?",
                [participant_id, target["id"]],
            )
        else:
            db.execute(
                """INSERT INTO votes (participant_id, item_id, dots, updated_at)
                   VALUES (?, ?, ?, ?)
                   ON CONFLICT (participant_id, item_id)
                   DO UPDATE SET dots = excluded.dots, updated_at = excluded.updated_at""",
                [participant_id, target["id"], dots, workshops.now()],
            )
    return {"item": target, "dots": dots, "before": current, "left": max(budget - others - dots, 0)}


def tallies(db: Database, workshop: dict) -> dict:
    """Per item id: total dots, number of voters and dots per stakeholder group."""
    result = {}
    for row in db.query(
        """SELECT v.item_id, p.stakeholder_group, sum(v.dots) AS dots, count(*) AS voters
           FROM votes v JOIN participants p ON p.id = v.participant_id
           WHERE p.workshop_id = ?
           GROUP BY v.item_id, p.stakeholder_group""",
        [workshop["id"]],
    ):
        tally = result.setdefault(
            row["item_id"], {"total": 0, "voters": 0, "by_group": dict.fromkeys(GROUP_KEYS, 0)}
        )
        tally["total"] += row["dots"]
        tally["voters"] += row["voters"]
        tally["by_group"][row["stakeholder_group"]] = row["dots"]
    return result


def empty_tally() -> dict:
    """The tally of an item nobody voted for."""
    return {"total": 0, "voters": 0, "by_group": dict.fromkeys(GROUP_KEYS, 0)}


def voter_names(db: Database, workshop: dict) -> dict:
    """Per item id, the names of those who voted for it and how many dots each gave."""
    names = {}
    for row in db.query(
        """SELECT v.item_id, p.name, p.on_behalf, v.dots FROM votes v
           JOIN participants p ON p.id = v.participant_id
           WHERE p.workshop_id = ? ORDER BY p.name""",
        [workshop["id"]],
    ):
        names.setdefault(row["item_id"], []).append(
            {"name": row["name"], "dots": row["dots"], "on_behalf": bool(row["on_behalf"])})
    return names
