"""Co-facilitators: colleagues the owner of a workshop lets run it too, added directly or by invitation."""
import datetime
import hashlib
import secrets

from sqlite_utils import Database

from toolkit import audit
from toolkit import facilitator as facilitators
from toolkit.db import writing
from toolkit.i18n import N_
from toolkit.validation import Invalid, NotFound, row_id
from toolkit.workshop import now

INVITATION_DAYS = 14
MAX_TEAM = 20


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def team(db: Database, workshop: dict) -> list[dict]:
    """Everyone who may run the workshop: its owner first, then co-facilitators in order of adding."""
    return list(db.query(
        """SELECT f.id, f.name, f.email, 1 AS owner, w.created_at AS added_at FROM workshops w
           JOIN facilitators f ON f.id = w.facilitator_id WHERE w.id = ?
           UNION ALL
           SELECT f.id, f.name, f.email, 0, wf.added_at FROM workshop_facilitators wf
           JOIN facilitators f ON f.id = wf.facilitator_id WHERE wf.workshop_id = ?
           ORDER BY owner DESC, added_at""",
        [workshop["id"], workshop["id"]],
    ))


def invitations(db: Database, workshop: dict) -> list[dict]:
    """Invitations still open: not used and not expired."""
    return list(db.query(
        "SELECT email, created_at, expires_at FROM invitations WHERE workshop_id = ? AND used_at IS NULL "
        "AND expires_at > ? ORDER BY created_at", [workshop["id"], now()]))


def invite(db: Database, workshop: dict, email, invited_by: dict) -> str | None:
    """Add the account with this address, or invite it; returns the invitation's token (None if added)."""
    email = facilitators.check_email(email)
    with writing(db):
        members = team(db, workshop)
        if len(members) >= MAX_TEAM:
            raise Invalid(N_("A workshop can have at most %(max)d facilitators."), "email", max=MAX_TEAM)
        account = facilitators.by_email(db, email)
        if account is not None:
            if any(member["id"] == account["id"] for member in members):
                raise Invalid(N_("This person already runs this workshop."), "email")
            _add(db, workshop, account, invited_by)
            return None
        token = secrets.token_urlsafe(24)
        expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=INVITATION_DAYS)
        db.execute(
            "INSERT INTO invitations (token_hash, workshop_id, email, invited_by, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [_digest(token), workshop["id"], email, invited_by["id"], now(),
             expires.isoformat(timespec="seconds")],
        )
        audit.record(db, workshop["id"], "cofacilitator_invited", email)
    return token


def _add(db: Database, workshop: dict, account: dict, added_by: dict | None) -> None:
    added = db.execute(
        "INSERT OR IGNORE INTO workshop_facilitators (workshop_id, facilitator_id, added_by, added_at) "
        "VALUES (?, ?, ?, ?)", [workshop["id"], account["id"], added_by and added_by["id"], now()]).rowcount
    if added:
        audit.record(db, workshop["id"], "cofacilitator_added", account["name"], email=account["email"])


def invitation(db: Database, token) -> dict:
    """The open invitation this token is, with its workshop's title, or NotFound."""
    rows = list(db.query(
        """SELECT i.*, w.title, w.code FROM invitations i JOIN workshops w ON w.id = i.workshop_id
           WHERE i.token_hash = ? AND i.used_at IS NULL AND i.expires_at > ?""",
        [_digest(str(token or "")), now()]))
    if not rows:
        raise NotFound(token)
    return rows[0]


def accept(db: Database, token, account: dict) -> dict:
    """Make account a co-facilitator of the invitation's workshop; the link works once, for its address."""
    with writing(db):
        found = invitation(db, token)
        if account["email"].casefold() != found["email"].casefold():
            raise Invalid(N_("This invitation is for %(email)s. Log in with that address to accept it."),
                          "email", email=found["email"])
        workshop = {"id": found["workshop_id"], "code": found["code"]}
        owner = db.execute("SELECT facilitator_id FROM workshops WHERE id = ?", [workshop["id"]]).fetchone()[0]
        if owner != account["id"]:
            _add(db, workshop, account, {"id": found["invited_by"]} if found["invited_by"] else None)
        db.execute("UPDATE invitations SET used_at = ? WHERE token_hash = ?", [now(), found["token_hash"]])
    return workshop


def remove(db: Database, workshop: dict, facilitator_id) -> None:
    """Stop a co-facilitator running the workshop; the owner always stays."""
    facilitator_id = row_id(facilitator_id)
    with writing(db):
        row = db.execute(
            "SELECT f.name FROM workshop_facilitators wf JOIN facilitators f ON f.id = wf.facilitator_id "
            "WHERE wf.workshop_id = ? AND wf.facilitator_id = ?", [workshop["id"], facilitator_id]).fetchone()
        if row is None:
            raise NotFound(facilitator_id)
        db.execute("DELETE FROM workshop_facilitators WHERE workshop_id = ? AND facilitator_id = ?",
                   [workshop["id"], facilitator_id])
        audit.record(db, workshop["id"], "cofacilitator_removed", row[0])
