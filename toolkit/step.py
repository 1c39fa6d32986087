"""How the facilitator runs each step: open or locked, results shown or hidden, method, timer."""
import datetime

from sqlite_utils import Database

from toolkit import workshop as workshops
from toolkit import audit
from toolkit.db import writing
from toolkit.i18n import N_
from toolkit.validation import Invalid, choice, integer

METHODS = {"dots": N_("Dot voting"), "points": N_("100 points")}
POINTS = 100
DEFAULTS = {"locked": 0, "revealed": 0, "named_votes": 0, "method": "dots", "cap": None,
            "timer_ends_at": None}
# Participants whose page asked for news this recently count as connected.
CONNECTED_SECONDS = 30


def settings(db: Database, workshop: dict, step: str) -> dict:
    """The step's settings, defaults filled in, with its budget."""
    row = db.execute(
        "SELECT locked, revealed, named_votes, method, cap, timer_ends_at FROM step_settings "
        "WHERE workshop_id = ? AND step = ?", [workshop["id"], step],
    ).fetchone()
    found = dict(zip(DEFAULTS, row)) if row else dict(DEFAULTS)
    found["budget"] = POINTS if found["method"] == "points" else workshop["dots"]
    found["step"] = step
    # A closed workshop is locked everywhere: the room can read, not change.
    found["closed"] = bool(workshop.get("closed_at"))
    found["locked"] = found["locked"] or int(found["closed"])
    return found


def _save(db: Database, workshop: dict, step: str, **changes) -> dict:
    step = choice(step, "step", workshops.STEP_KEYS)
    with writing(db):
        db.execute("INSERT OR IGNORE INTO step_settings (workshop_id, step) VALUES (?, ?)",
                   [workshop["id"], step])
        assignments = ", ".join(f"{column} = ?" for column in changes)
        db.execute(f"UPDATE step_settings SET {assignments} WHERE workshop_id = ? AND step = ?",
                   [*changes.values(), workshop["id"], step])
        audit.record(db, workshop["id"], "step_settings", step, **changes)
    return settings(db, workshop, step)


def set_locked(db: Database, workshop: dict, step: str, locked: bool) -> dict:
    """Lock a step (no more votes, items or comments) or open it again."""
    return _save(db, workshop, step, locked=int(locked))


def set_revealed(db: Database, workshop: dict, step: str, revealed: bool) -> dict:
    """Show the step's results to the room, or hide them again."""
    return _save(db, workshop, step, revealed=int(revealed))


def configure(db: Database, workshop: dict, step: str, form: dict) -> dict:
    """Set the step's voting method, cap per item and whether votes are shown by name."""
    if step not in workshops.STEP_KINDS:
        raise Invalid(N_("This step has no vote."), "method")
    method = choice(form.get("method"), "method", METHODS)
    cap = str(form.get("cap") or "").strip()
    cap = integer(cap, "cap", 1, POINTS) if cap else None
    named = 1 if str(form.get("named_votes", "")).lower() in ("1", "on", "true") else 0
    with writing(db):
        # Checked and saved in one transaction: no vote can slip in between under the old method.
        current = settings(db, workshop, step)
        if method != current["method"] and _votes_in_step(db, workshop, step):
            raise Invalid(N_("Votes have been cast in this step; its method can no longer change."), "method")
        return _save(db, workshop, step, method=method, cap=cap, named_votes=named)


def _votes_in_step(db: Database, workshop: dict, step: str) -> int:
    kinds = workshops.STEP_KINDS[step]
    placeholders = ",".join("?" for _ in kinds)
    return db.execute(
        f"""SELECT count(*) FROM votes v JOIN items i ON i.id = v.item_id
            WHERE i.workshop_id = ? AND i.kind IN ({placeholders})""",
        [workshop["id"], *kinds],
    ).fetchone()[0]


def start_timer(db: Database, workshop: dict, step: str, minutes) -> dict:
    """Start (or restart) the step's countdown that every screen shows."""
    minutes = integer(minutes, "minutes", 1, 120)
    ends = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    return _save(db, workshop, step, timer_ends_at=ends.isoformat(timespec="seconds"))


def stop_timer(db: Database, workshop: dict, step: str) -> dict:
    """Take the countdown away."""
    return _save(db, workshop, step, timer_ends_at=None)


def seconds_left(settings_row: dict) -> int | None:
    """Seconds until the step's timer ends (0 once it has), or None without a timer."""
    if not settings_row["timer_ends_at"]:
        return None
    ends = datetime.datetime.fromisoformat(settings_row["timer_ends_at"])
    return max(0, int((ends - datetime.datetime.now(datetime.timezone.utc)).total_seconds()))


def set_done(db: Database, workshop: dict, participant_id: int, step: str, done: bool) -> None:
    """Say that a participant has finished the step (or not after all)."""
    step = choice(step, "step", workshops.STEP_KEYS)
    with writing(db):
        if workshops.is_closed(db, workshop):
            raise Invalid(N_("The workshop is closed: nothing can be changed any more."))
        if done:
            db.execute("INSERT OR IGNORE INTO step_done (participant_id, step, done_at) VALUES (?, ?, ?)",
                       [participant_id, step, workshops.now()])
        else:
            db.execute("DELETE FROM step_done WHERE participant_id = ? AND step = ?", [participant_id, step])


def done(db: Database, workshop: dict, step: str) -> set:
    """The ids of the participants who said they finished step."""
    return {
        row[0] for row in db.execute(
            """SELECT d.participant_id FROM step_done d JOIN participants p ON p.id = d.participant_id
               WHERE p.workshop_id = ? AND d.step = ?""", [workshop["id"], step])
    }


def mark_seen(db: Database, participant: dict, every: float = CONNECTED_SECONDS / 3) -> None:
    """Note that a participant's page is open; written at most every `every` seconds per person."""
    now = datetime.datetime.now(datetime.timezone.utc)
    seen = participant.get("last_seen")
    if seen and (now - datetime.datetime.fromisoformat(seen)).total_seconds() < every:
        return
    with writing(db):
        db.execute("UPDATE participants SET last_seen = ? WHERE id = ?",
                   [now.isoformat(timespec="seconds"), participant["id"]])


def mark_present(db: Database, participant_ids) -> None:
    """Note that these participants' pages are open, in one write (the poll shortcut's, toolkit/web/poll_shortcut.py)."""
    ids = sorted(set(participant_ids))
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    with writing(db):
        for start in range(0, len(ids), 500):  # within SQLite's limit on parameters
            chunk = ids[start:start + 500]
            db.execute(f"UPDATE participants SET last_seen = ? WHERE id IN ({','.join('?' * len(chunk))})",
                       [now, *chunk])


def connected(db: Database, workshop: dict) -> set:
    """The ids of the participants whose page asked for news within the last half minute."""
    since = (datetime.datetime.now(datetime.timezone.utc)
             - datetime.timedelta(seconds=CONNECTED_SECONDS)).isoformat(timespec="seconds")
    return {
        row[0] for row in db.execute(
            "SELECT id FROM participants WHERE workshop_id = ? AND last_seen >= ?", [workshop["id"], since])
    }
