"""A whole workshop as JSON, to move it to another installation or to start the next region from.

The file holds what the workshop is, never what one installation made of it: no join code,
no database ids, no personal codes or form tokens, no facilitator account. Records refer
to each other by ids that count from 1 within the file, in a fixed order, so exporting an
imported workshop gives the same file again. Study items are named by their catalogue id.

An action's uid, which names it in the history and in drafts, belongs to one installation
(it is unique there): the file numbers actions instead, and an import gives them new uids.
Actions named only in the history or in a draft (they were removed since) get the numbers
after the file's actions. Edits record whether the facilitator made them; on import that
becomes the importing facilitator, who now runs the workshop.
"""
import base64
import binascii
import datetime
import json
import re
import secrets
import sqlite3

from sqlite_utils import Database

from toolkit import action as actions
from toolkit import audit, catalogue, comment, limits, participant, step, texts
from toolkit import workshop as workshops
from toolkit.db import writing
from toolkit.i18n import LANGUAGES, N_
from toolkit.validation import _FORBIDDEN, Invalid

FORMAT = "toolkit-workshop"
FORMAT_VERSION = 1
# Drafts travel inside the file, so it outgrows the app's 64 KB form limit; the import route
# allows this much. A workshop with twenty drafts of 60 KB is about 2 MB.
MAX_FILE = limits.IMPORT_FILE_BYTES
MAX_ID = 10**9
MAX_VERSION = 2**62
MAX_HISTORY_TEXT = max(actions.MAX_FIELD, actions.MAX_PROGRESS, texts.MAX_TEXT, workshops.MAX_TITLE)
EDIT_KINDS = ("created", "edited", "removed")
# What a draft remembers of the one before it (toolkit.agenda.changes), list by list.
DRAFT_LISTS = ("added", "removed", "changed", "progress", "new_priorities", "dropped_priorities")
ROLES = tuple(key for key, _label in actions.ROLES)
# The fields an action's history keeps; those ending in _id name items of the workshop.
ACTION_RECORD = actions.FIELDS + actions.FOLLOW_UP_FIELDS
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}:\d{2}|Z)?")
# Subjects of the history: an action's file id in the file, its uid in the database.
_SUBJECT = re.compile(r"(action):([1-9]\d{0,8})|(text):(\w{1,40})")
_STORED_ACTION = re.compile(r"action:(.+)", re.DOTALL)

SECTIONS = ("workshop", "steps", "items", "participants", "votes", "step_done", "comments",
            "actions", "volunteers", "ratings", "texts", "edits", "drafts", "audit")
# Audit details that name a record of the workshop, and the file's numbering they use.
AUDIT_REFERENCES = {"participant": "participants", "item": "items", "source": "items", "target": "items",
                    "action": "actions", "comment": "comments"}
MAX_AUDIT_TEXT = 1000


def dumps(db: Database, workshop: dict) -> str:
    """The whole workshop as the JSON text of a workshop file."""
    return json.dumps(export_workshop(db, workshop), ensure_ascii=False, indent=1)


def export_workshop(db: Database, workshop: dict) -> dict:
    """The whole workshop as plain JSON-ready data, with ids counted within the file."""
    wid = workshop["id"]
    item_rows = list(db.query(
        """SELECT i.* FROM items i LEFT JOIN catalogue_items c ON c.id = i.catalogue_id
           WHERE i.workshop_id = ? ORDER BY c.position IS NULL, c.position, i.id""", [wid]))
    people_rows = list(db.query("SELECT * FROM participants WHERE workshop_id = ? ORDER BY id", [wid]))
    action_rows = list(db.query("SELECT * FROM actions WHERE workshop_id = ? ORDER BY id", [wid]))
    edit_rows = list(db.query("SELECT * FROM edits WHERE workshop_id = ? ORDER BY id", [wid]))
    draft_rows = list(db.query(
        "SELECT * FROM drafts WHERE workshop_id = ? AND length(docx) > 0 ORDER BY version", [wid]))
    items = _numbered(row["id"] for row in item_rows)
    people = _numbered(row["id"] for row in people_rows)
    by_id = _numbered(row["id"] for row in action_rows)
    named = {row["uid"]: by_id[row["id"]] for row in action_rows if row["uid"] is not None}
    # Removed actions live on in the history and in drafts: number them after the others.
    mentioned = [found.group(1) for row in edit_rows if (found := _STORED_ACTION.fullmatch(row["subject"]))]
    mentioned += [key for row in draft_rows for key in _snapshot_actions(_loads(row["snapshot"]))]
    for uid in mentioned:
        if uid not in named:
            named[uid] = len(action_rows) + 1 + len([n for n in named.values() if n > len(action_rows)])

    step_rows = {row["step"]: row for row in db.query(
        "SELECT * FROM step_settings WHERE workshop_id = ?", [wid])}
    comment_rows = list(db.query("SELECT * FROM comments WHERE workshop_id = ? ORDER BY id", [wid]))
    numbering = {"participants": people, "items": items, "actions": by_id,
                 "comments": _numbered(row["id"] for row in comment_rows if row["item_id"] in items)}
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "workshop": {
            "title": workshop["title"], "region": workshop["region"], "sector": workshop["sector"],
            "date": workshop["date"], "language": workshop["language"], "dots": workshop["dots"],
            "anonymous": bool(workshop["anonymous"]), "step": workshop["step"],
            "closed_at": workshop.get("closed_at"),
        },
        "steps": [
            {"step": key, "locked": bool(row["locked"]), "revealed": bool(row["revealed"]),
             "named_votes": bool(row["named_votes"]), "method": row["method"], "cap": row["cap"]}
            for key in workshops.STEP_KEYS if (row := step_rows.get(key))
        ],
        "items": [
            {"id": items[row["id"]], "kind": row["kind"], "catalogue_id": row["catalogue_id"],
             "title": None if row["catalogue_id"] else row["title"],
             "explanation": None if row["catalogue_id"] else (row["explanation"] or ""),
             "hidden": bool(row["hidden"]), "adopted": bool(row["adopted"]),
             "merged_into": items.get(row["merged_into"]), "added_by": people.get(row["added_by"]),
             "on_behalf": bool(row["on_behalf"]), "created_at": row["created_at"]}
            for row in item_rows
        ],
        "participants": [
            {"id": people[row["id"]], "name": row["name"], "organisation": row["organisation"],
             "stakeholder_group": row["stakeholder_group"], "on_behalf": bool(row["on_behalf"]),
             "joined_at": row["joined_at"]}
            for row in people_rows
        ],
        "votes": sorted(
            ({"participant": people[row["participant_id"]], "item": items[row["item_id"]],
              "dots": row["dots"], "updated_at": row["updated_at"]}
             for row in db.query(
                 """SELECT v.* FROM votes v JOIN participants p ON p.id = v.participant_id
                    WHERE p.workshop_id = ?""", [wid])
             if row["item_id"] in items),
            key=lambda vote: (vote["participant"], vote["item"])),
        "step_done": sorted(
            ({"participant": people[row["participant_id"]], "step": row["step"], "done_at": row["done_at"]}
             for row in db.query(
                 """SELECT d.* FROM step_done d JOIN participants p ON p.id = d.participant_id
                    WHERE p.workshop_id = ?""", [wid])
             if row["step"] in workshops.STEP_KEYS),
            key=lambda done: (done["participant"], workshops.STEP_KEYS.index(done["step"]))),
        "comments": [
            {"item": items[row["item_id"]], "participant": people.get(row["participant_id"]),
             "body": row["body"], "hidden": bool(row["hidden"]), "created_at": row["created_at"]}
            for row in comment_rows if row["item_id"] in items
        ],
        "actions": [
            {"id": by_id[row["id"]], "recommendation": items[row["recommendation_id"]],
             "answers": items.get(row["answers_item_id"]),
             **{field: row[field] for field in _ACTION_TEXTS},
             "status": row["status"], "progress_at": row["progress_at"], "version": row["version"],
             "proposed_by": people.get(row["proposed_by"]), "created_at": row["created_at"],
             "updated_at": row["updated_at"]}
            for row in action_rows
        ],
        "volunteers": sorted(
            ({"action": by_id[row["action_id"]], "participant": people[row["participant_id"]],
              "role": row["role"], "created_at": row["created_at"]}
             for row in db.query(
                 """SELECT v.* FROM action_volunteers v JOIN actions a ON a.id = v.action_id
                    WHERE a.workshop_id = ?""", [wid])
             if row["participant_id"] in people),
            key=lambda offer: (offer["action"], offer["participant"])),
        "ratings": sorted(
            ({"action": by_id[row["action_id"]], "participant": people[row["participant_id"]],
              "impact": row["impact"], "effort": row["effort"], "updated_at": row["updated_at"]}
             for row in db.query(
                 """SELECT r.* FROM action_ratings r JOIN actions a ON a.id = r.action_id
                    WHERE a.workshop_id = ?""", [wid])
             if row["participant_id"] in people),
            key=lambda rating: (rating["action"], rating["participant"])),
        "texts": [
            {"key": key, "body": row["body"], "version": row["version"], "updated_at": row["updated_at"]}
            for key in texts.KEYS
            for row in db.query("SELECT * FROM agenda_texts WHERE workshop_id = ? AND key = ?", [wid, key])
        ],
        "edits": [_export_edit(row, items, people, named) for row in edit_rows],
        "drafts": [
            {"version": row["version"], "language": row["language"], "created_at": row["created_at"],
             "changes": _loads(row["changes"]),
             "snapshot": _export_snapshot(_loads(row["snapshot"]), named),
             "docx": base64.b64encode(row["docx"]).decode("ascii")}
            for row in draft_rows
        ],
        "audit": [_export_audit(row, numbering)
                  for row in db.query("SELECT * FROM audit WHERE workshop_id = ? ORDER BY id", [wid])],
    }


def _export_audit(row: dict, numbering: dict) -> dict:
    detail = json.loads(row["detail"])
    for key, section in AUDIT_REFERENCES.items():
        if key in detail:
            detail[key] = numbering[section].get(detail[key])
    return {"at": row["at"], "actor_kind": row["actor_kind"],
            "actor_participant": numbering["participants"].get(row["actor_id"])
            if row["actor_kind"] == "participant" else None,
            "actor": row["actor"], "event": row["event"], "subject": row["subject"], "detail": detail}


_ACTION_TEXTS = ("what", "lead", "partners", "starts", "ends", "timeline", "resources", "indicator",
                 "first_step", "progress")


def _numbered(ids) -> dict:
    """Database id to file id, counting from 1 in the order given."""
    return {row_id: number for number, row_id in enumerate(ids, 1)}


def _snapshot_actions(snapshot) -> dict:
    """The actions a draft's snapshot remembers, by the id they had then."""
    if isinstance(snapshot, dict) and isinstance(snapshot.get("actions"), dict):
        return snapshot["actions"]
    return {}


def _loads(value):
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def _export_edit(row: dict, items: dict, people: dict, named: dict) -> dict:
    found = _STORED_ACTION.fullmatch(row["subject"])
    subject = row["subject"]
    changes, snapshot = _loads(row["changes"]), _loads(row["snapshot"])
    if found:
        subject = f"action:{named[found.group(1)]}"
        snapshot = _with_item_ids(snapshot, items.get)
        if isinstance(changes, dict):
            changes = {field: ([_item_id(field, value, items.get) for value in pair]
                               if isinstance(pair, list) else pair)
                       for field, pair in changes.items()}
    return {"subject": subject, "version": row["version"], "kind": row["kind"], "changes": changes,
            "snapshot": snapshot, "participant": people.get(row["participant_id"]),
            "by_facilitator": row["facilitator_id"] is not None, "at": row["at"]}


def _item_id(field: str, value, translate):
    """An item id in an action's history, translated between database and file."""
    if field.endswith("_id") and value is not None:
        return translate(value)
    return value


def _with_item_ids(record, translate):
    if not isinstance(record, dict):
        return record
    return {field: _item_id(field, value, translate) for field, value in record.items()}


def _export_snapshot(snapshot, named: dict):
    """A draft's memory of the agenda, its actions keyed by file id instead of uid."""
    if not _snapshot_actions(snapshot):
        return snapshot
    return {**snapshot, "actions": {str(named[key]): value for key, value in snapshot["actions"].items()}}


def file_name(workshop: dict) -> str:
    """A safe download name: the join code, never text someone typed."""
    return f"workshop-{workshop['code']}.json"


def parse(raw: bytes) -> dict:
    """The bytes of an uploaded file as JSON data, or Invalid when they are not JSON text."""
    if len(raw) > MAX_FILE:
        raise Invalid(N_("The file is larger than %(size)d MB, too large to import."), "file",
                      size=MAX_FILE // (1024 * 1024))

    def no_constants(name):
        raise ValueError(name)  # NaN and Infinity are not JSON

    def no_duplicates(pairs):
        keys = [key for key, _value in pairs]
        if len(set(keys)) != len(keys):
            raise ValueError("duplicate key")
        return dict(pairs)

    try:
        text = raw.decode("utf-8-sig")
        return json.loads(text, parse_constant=no_constants, object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError):
        # ValueError also covers numbers too long to convert; RecursionError nesting without end.
        raise Invalid(N_("This file cannot be read: it is not a workshop exported as JSON."), "file") from None


def import_workshop(db: Database, facilitator_id: int, data: dict, structure_only: bool = False) -> dict:
    """Create a new workshop of this facilitator from exported data; Invalid if anything is wrong.

    structure_only takes the setup alone (details, step settings, the workshop's own items,
    hidden items, texts) as the template for another region: no people, votes, comments,
    actions, history or drafts.
    """
    checked = _Checker(db).check(data)
    try:
        with writing(db):
            limits.room_for(db, "workshops", "facilitator_id = ?", [facilitator_id], "file")
            return _write(db, facilitator_id, checked, structure_only)
    except sqlite3.IntegrityError:
        # Every rule the schema holds is checked above; this is the net under that.
        raise Invalid(N_("This file cannot be imported: its records contradict each other."), "file") from None


def _fail(message: str, where: str, **params):
    # where may quote a field name from the file: keep it printable and short.
    raise Invalid(message, "file", where=_FORBIDDEN.sub("", where)[:200], **params)


class _Checker:
    """Reads exported data field by field; the first thing wrong raises Invalid saying where."""

    def __init__(self, db: Database):
        self.catalogue = {row["id"]: row["kind"] for row in db.query("SELECT id, kind FROM catalogue_items")}

    # The shapes of single values.

    def record(self, value, where: str, keys) -> dict:
        if not isinstance(value, dict):
            _fail(N_("The file is damaged at %(where)s: this value has the wrong type."), where)
        for key in value:
            if key not in keys:
                _fail(N_("The file is damaged at %(where)s: this field is unknown."), f"{where} › {key}")
        for key in keys:
            if key not in value:
                _fail(N_("The file is damaged at %(where)s: a value is missing."), f"{where} › {key}")
        return value

    def records(self, data: dict, section: str, keys) -> list[tuple[str, dict]]:
        value = data.get(section, [])
        if not isinstance(value, list):
            _fail(N_("The file is damaged at %(where)s: this value has the wrong type."), section)
        return [(f"{section} #{number}", self.record(entry, f"{section} #{number}", keys))
                for number, entry in enumerate(value, 1)]

    def text(self, value, where: str, max_length: int, required=False, nullable=False):
        if value is None and nullable:
            return None
        if not isinstance(value, str):
            _fail(N_("The file is damaged at %(where)s: this value has the wrong type."), where)
        # Cleaned as the forms clean what people type, so nothing enters that a form would refuse.
        value = _FORBIDDEN.sub("", value).strip()
        if required and not value:
            _fail(N_("The file is damaged at %(where)s: this field cannot be empty."), where)
        if len(value) > max_length:
            _fail(N_("The file is damaged at %(where)s: the text is longer than %(max)d characters."),
                  where, max=max_length)
        return value

    def number(self, value, where: str, lowest: int, highest: int, nullable=False):
        if value is None and nullable:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            _fail(N_("The file is damaged at %(where)s: this value has the wrong type."), where)
        if not lowest <= value <= highest:
            _fail(N_("The file is damaged at %(where)s: the number must be from %(lowest)d to %(highest)d."),
                  where, lowest=lowest, highest=highest)
        return value

    def flag(self, value, where: str) -> int:
        if not isinstance(value, bool):
            _fail(N_("The file is damaged at %(where)s: this value has the wrong type."), where)
        return int(value)

    def choice(self, value, where: str, allowed, nullable=False):
        if value is None and nullable:
            return None
        if not isinstance(value, str):
            _fail(N_("The file is damaged at %(where)s: this value has the wrong type."), where)
        if value not in allowed:
            _fail(N_("The file is damaged at %(where)s: this is not one of the allowed values."), where)
        return value

    def stamp(self, value, where: str, nullable=False):
        if value is None and nullable:
            return None
        if not isinstance(value, str):
            _fail(N_("The file is damaged at %(where)s: this value has the wrong type."), where)
        try:
            if not _TIMESTAMP.fullmatch(value):
                raise ValueError(value)
            datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            _fail(N_("The file is damaged at %(where)s: this is not a valid date and time."), where)
        return value

    def ref(self, value, where: str, known, nullable=False):
        """A file id naming a record of known; nullable ones may be null."""
        if value is None and nullable:
            return None
        self.number(value, where, 1, MAX_ID)
        if value not in known:
            _fail(N_("The file is damaged at %(where)s: it refers to a record that is not in the file."), where)
        return value

    def live_item(self, value, where: str, items: dict) -> int:
        """An item that was not merged away: votes, comments and actions move with a merge."""
        self.ref(value, where, items)
        if items[value]["merged_into"] is not None:
            _fail(N_("The file is damaged at %(where)s: this value does not fit the rest of the record."), where)
        return value

    def new_id(self, value, where: str, seen: set) -> int:
        self.number(value, where, 1, MAX_ID)
        if value in seen:
            _fail(N_("The file is damaged at %(where)s: the same record appears twice."), where)
        seen.add(value)
        return value

    def once(self, key, where: str, seen: set) -> None:
        if key in seen:
            _fail(N_("The file is damaged at %(where)s: the same record appears twice."), where)
        seen.add(key)

    def texts_list(self, value, where: str) -> list[str]:
        if not isinstance(value, list):
            _fail(N_("The file is damaged at %(where)s: this value has the wrong type."), where)
        return [self.text(entry, f"{where} #{n}", MAX_HISTORY_TEXT) for n, entry in enumerate(value, 1)]

    # The whole file.

    def check(self, data) -> dict:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise Invalid(N_("This is not a workshop file of this toolkit."), "file")
        if type(data.get("format_version")) is not int or data["format_version"] != FORMAT_VERSION:
            raise Invalid(N_("This workshop file was made by another version of the toolkit and cannot be "
                             "imported here."), "file")
        # Files from before the audit log have no audit section; they import with an empty log.
        self.record({"audit": [], **data}, "file", ("format", "format_version", *SECTIONS))
        out = {"workshop": self.workshop(data["workshop"])}
        out["steps"] = self.steps(data)
        out["participants"] = self.participants(data)
        out["items"] = self.items(data, out["participants"])
        out["votes"] = self.votes(data, out)
        out["step_done"] = self.step_done(data, out)
        out["comments"] = self.comments(data, out)
        out["actions"] = self.actions(data, out)
        out["volunteers"], out["ratings"] = self.offers_and_ratings(data, out)
        out["texts"] = self.texts(data)
        out["edits"] = self.edits(data, out)
        out["drafts"] = self.drafts(data)
        out["audit"] = self.audit(data, out)
        # A file is held to the limits of the forms: it may not bring in more than they allow.
        limits.fits("participants", len(out["participants"]), "file")
        limits.fits("room_items", sum(1 for row in out["items"].values() if row["catalogue_id"] is None), "file")
        limits.fits("comments", len(out["comments"]), "file")
        limits.fits("actions", len(out["actions"]), "file")
        limits.fits("drafts", len(out["drafts"]), "file")
        return out

    def audit(self, data, out) -> list[dict]:
        checked = []
        known = {"participants": out["participants"], "items": out["items"], "actions": out["actions"],
                 "comments": range(1, len(out["comments"]) + 1)}
        for where, row in self.records(data, "audit", ("at", "actor_kind", "actor_participant", "actor",
                                                      "event", "subject", "detail")):
            detail = {}
            for key, value in self.mapping(row["detail"], f"{where} › detail").items():
                at = f"{where} › detail › {key}"
                if not isinstance(key, str) or len(key) > 40:
                    _fail(N_("The file is damaged at %(where)s: this field is unknown."), at)
                if key in AUDIT_REFERENCES:
                    detail[key] = self.ref(value, at, known[AUDIT_REFERENCES[key]], nullable=True)
                elif isinstance(value, list):
                    detail[key] = [self.text(entry, at, MAX_AUDIT_TEXT) for entry in value[:100]]
                elif value is None or isinstance(value, bool) or type(value) is int and abs(value) < MAX_VERSION:
                    detail[key] = value
                else:
                    detail[key] = self.text(value, at, MAX_AUDIT_TEXT)
            kind = self.choice(row["actor_kind"], f"{where} › actor_kind", audit.ACTOR_KINDS)
            checked.append({
                "at": self.stamp(row["at"], f"{where} › at"), "actor_kind": kind,
                "actor_participant": self.ref(row["actor_participant"], f"{where} › actor_participant",
                                              out["participants"], nullable=True),
                "actor": self.text(row["actor"], f"{where} › actor", 300),
                "event": self.choice(row["event"], f"{where} › event", audit.EVENTS),
                "subject": self.text(row["subject"], f"{where} › subject", 300),
                "detail": detail,
            })
        return checked

    def workshop(self, value) -> dict:
        where = "workshop"
        self.record(value, where, ("title", "region", "sector", "date", "language", "dots", "anonymous",
                                   "step", "closed_at"))
        date = self.text(value["date"], f"{where} › date", 10, required=True)
        try:
            date = datetime.date.fromisoformat(date).isoformat()
        except ValueError:
            _fail(N_("The file is damaged at %(where)s: this is not a valid date and time."), f"{where} › date")
        return {
            "title": self.text(value["title"], f"{where} › title", workshops.MAX_TITLE, required=True),
            "region": self.text(value["region"], f"{where} › region", workshops.MAX_SHORT, required=True),
            "sector": self.text(value["sector"], f"{where} › sector", workshops.MAX_SHORT, required=True),
            "date": date,
            "language": self.choice(value["language"], f"{where} › language", LANGUAGES),
            "dots": self.number(value["dots"], f"{where} › dots", 1, 20),
            "anonymous": self.flag(value["anonymous"], f"{where} › anonymous"),
            "step": self.choice(value["step"], f"{where} › step", workshops.STEP_KEYS),
            "closed_at": self.stamp(value["closed_at"], f"{where} › closed_at", nullable=True),
        }

    def steps(self, data) -> list[dict]:
        seen, out = set(), []
        for where, row in self.records(data, "steps", ("step", "locked", "revealed", "named_votes",
                                                      "method", "cap")):
            key = self.choice(row["step"], f"{where} › step", workshops.STEP_KEYS)
            self.once(key, f"{where} › step", seen)
            out.append({"step": key, "locked": self.flag(row["locked"], f"{where} › locked"),
                        "revealed": self.flag(row["revealed"], f"{where} › revealed"),
                        "named_votes": self.flag(row["named_votes"], f"{where} › named_votes"),
                        "method": self.choice(row["method"], f"{where} › method", step.METHODS),
                        "cap": self.number(row["cap"], f"{where} › cap", 1, step.POINTS, nullable=True)})
        return out

    def participants(self, data) -> dict:
        seen, out = set(), {}
        for where, row in self.records(data, "participants", ("id", "name", "organisation",
                                                             "stakeholder_group", "on_behalf", "joined_at")):
            key = self.new_id(row["id"], f"{where} › id", seen)
            out[key] = {
                "name": self.text(row["name"], f"{where} › name", workshops.MAX_SHORT, nullable=True) or None,
                "organisation": self.text(row["organisation"], f"{where} › organisation", workshops.MAX_SHORT,
                                          required=True),
                "stakeholder_group": self.choice(row["stakeholder_group"], f"{where} › stakeholder_group",
                                                 participant.GROUP_KEYS),
                "on_behalf": self.flag(row["on_behalf"], f"{where} › on_behalf"),
                "joined_at": self.stamp(row["joined_at"], f"{where} › joined_at"),
            }
        return out

    def items(self, data, people: dict) -> dict:
        seen, out, from_catalogue = set(), {}, set()
        rows = self.records(data, "items", ("id", "kind", "catalogue_id", "title", "explanation", "hidden",
                                            "adopted", "merged_into", "added_by", "on_behalf", "created_at"))
        ids = {row["id"] for _where, row in rows if isinstance(row["id"], int)}
        for where, row in rows:
            key = self.new_id(row["id"], f"{where} › id", seen)
            kind = self.choice(row["kind"], f"{where} › kind", catalogue.VOTABLE_KINDS)
            source = row["catalogue_id"]
            if source is not None:
                if not isinstance(source, str):
                    _fail(N_("The file is damaged at %(where)s: this value has the wrong type."),
                          f"{where} › catalogue_id")
                if source not in self.catalogue:
                    _fail(N_("The file is damaged at %(where)s: the study catalogue here has no such item."),
                          f"{where} › catalogue_id")
                if self.catalogue[source] != kind:
                    _fail(N_("The file is damaged at %(where)s: this value does not fit the rest of the record."),
                          f"{where} › kind")
                self.once(source, f"{where} › catalogue_id", from_catalogue)
                for field in ("title", "explanation"):
                    if row[field] is not None:
                        _fail(N_("The file is damaged at %(where)s: study items keep the study's wording."),
                              f"{where} › {field}")
                title = explanation = None
            else:
                title = self.text(row["title"], f"{where} › title", workshops.MAX_TITLE, required=True)
                explanation = self.text(row["explanation"], f"{where} › explanation",
                                        workshops.MAX_EXPLANATION, nullable=True) or ""
            merged_into = self.ref(row["merged_into"], f"{where} › merged_into", ids, nullable=True)
            # A merged item is an empty duplicate: hidden, out of the agenda, merged into another.
            if merged_into is not None and (merged_into == key or row["hidden"] is not True
                                            or row["adopted"] is not False):
                _fail(N_("The file is damaged at %(where)s: this value does not fit the rest of the record."),
                      f"{where} › merged_into")
            out[key] = {
                "kind": kind, "catalogue_id": source, "title": title, "explanation": explanation,
                "hidden": self.flag(row["hidden"], f"{where} › hidden"),
                "adopted": self.flag(row["adopted"], f"{where} › adopted"),
                "merged_into": merged_into,
                "added_by": self.ref(row["added_by"], f"{where} › added_by", people, nullable=True),
                "on_behalf": self.flag(row["on_behalf"], f"{where} › on_behalf"),
                "created_at": self.stamp(row["created_at"], f"{where} › created_at"),
            }
        for number, (key, item) in enumerate(out.items(), 1):
            # Merges form chains (a into b, later b into c), never circles, and stay within a step.
            seen_chain, current = {key}, item
            while current["merged_into"] is not None:
                target = out[current["merged_into"]]
                if current["merged_into"] in seen_chain or (
                        workshops.KIND_STEP[target["kind"]] != workshops.KIND_STEP[item["kind"]]):
                    _fail(N_("The file is damaged at %(where)s: this value does not fit the rest of the record."),
                          f"items #{number} › merged_into")
                seen_chain.add(current["merged_into"])
                current = target
        return out

    def votes(self, data, out) -> list[dict]:
        seen, checked = set(), []
        budgets = {row["step"]: row["method"] for row in out["steps"]}
        spent: dict = {}
        for where, row in self.records(data, "votes", ("participant", "item", "dots", "updated_at")):
            who = self.ref(row["participant"], f"{where} › participant", out["participants"])
            item = self.live_item(row["item"], f"{where} › item", out["items"])
            self.once((who, item), where, seen)
            dots = self.number(row["dots"], f"{where} › dots", 1, step.POINTS)
            # Dots were placed within each step's budget; a file with more was not made by us.
            voted_step = workshops.KIND_STEP[out["items"][item]["kind"]]
            budget = step.POINTS if budgets.get(voted_step) == "points" else out["workshop"]["dots"]
            spent[(who, voted_step)] = spent.get((who, voted_step), 0) + dots
            if spent[(who, voted_step)] > budget:
                _fail(N_("The file is damaged at %(where)s: this value does not fit the rest of the record."),
                      f"{where} › dots")
            checked.append({"participant": who, "item": item, "dots": dots,
                            "updated_at": self.stamp(row["updated_at"], f"{where} › updated_at")})
        return checked

    def step_done(self, data, out) -> list[dict]:
        seen, checked = set(), []
        for where, row in self.records(data, "step_done", ("participant", "step", "done_at")):
            who = self.ref(row["participant"], f"{where} › participant", out["participants"])
            key = self.choice(row["step"], f"{where} › step", workshops.STEP_KEYS)
            self.once((who, key), where, seen)
            checked.append({"participant": who, "step": key,
                            "done_at": self.stamp(row["done_at"], f"{where} › done_at")})
        return checked

    def comments(self, data, out) -> list[dict]:
        return [
            {"item": self.live_item(row["item"], f"{where} › item", out["items"]),
             "participant": self.ref(row["participant"], f"{where} › participant", out["participants"],
                                     nullable=True),
             "body": self.text(row["body"], f"{where} › body", comment.MAX_BODY, required=True),
             "hidden": self.flag(row["hidden"], f"{where} › hidden"),
             "created_at": self.stamp(row["created_at"], f"{where} › created_at")}
            for where, row in self.records(data, "comments", ("item", "participant", "body", "hidden",
                                                             "created_at"))
        ]

    def actions(self, data, out) -> dict:
        seen, checked = set(), {}
        items = out["items"]
        for where, row in self.records(data, "actions", ("id", "recommendation", "answers", *_ACTION_TEXTS,
                                                        "status", "progress_at", "version", "proposed_by",
                                                        "created_at", "updated_at")):
            key = self.new_id(row["id"], f"{where} › id", seen)
            recommendation = self.live_item(row["recommendation"], f"{where} › recommendation", items)
            if items[recommendation]["kind"] != "recommendation":
                _fail(N_("The file is damaged at %(where)s: this value does not fit the rest of the record."),
                      f"{where} › recommendation")
            answers = self.ref(row["answers"], f"{where} › answers", items, nullable=True)
            if answers is not None and items[answers]["kind"] not in actions.ANSWERS_KINDS:
                _fail(N_("The file is damaged at %(where)s: this value does not fit the rest of the record."),
                      f"{where} › answers")
            values = {field: self.text(row[field], f"{where} › {field}", actions.MAX_FIELD,
                                       required=field in actions.REQUIRED)
                      for field in _ACTION_TEXTS if field != "progress"}
            values["progress"] = self.text(row["progress"], f"{where} › progress", actions.MAX_PROGRESS)
            for field in ("starts", "ends"):
                try:
                    values[field] = actions.period(values[field], field)
                except Invalid:
                    _fail(N_("The file is damaged at %(where)s: this value does not fit the rest of the record."),
                          f"{where} › {field}")
            if values["starts"] and values["ends"] and (
                    actions.period_bounds(values["ends"])[1] < actions.period_bounds(values["starts"])[0]):
                _fail(N_("The file is damaged at %(where)s: this value does not fit the rest of the record."),
                      f"{where} › ends")
            checked[key] = {
                "recommendation": recommendation, "answers": answers, **values,
                "status": self.choice(row["status"], f"{where} › status", actions.STATUS_KEYS),
                "progress_at": self.stamp(row["progress_at"], f"{where} › progress_at", nullable=True),
                "version": self.number(row["version"], f"{where} › version", 1, MAX_VERSION),
                "proposed_by": self.ref(row["proposed_by"], f"{where} › proposed_by", out["participants"],
                                        nullable=True),
                "created_at": self.stamp(row["created_at"], f"{where} › created_at"),
                "updated_at": self.stamp(row["updated_at"], f"{where} › updated_at", nullable=True),
            }
        return checked

    def offers_and_ratings(self, data, out) -> tuple[list, list]:
        offers, seen = [], set()
        for where, row in self.records(data, "volunteers", ("action", "participant", "role", "created_at")):
            pair = (self.ref(row["action"], f"{where} › action", out["actions"]),
                    self.ref(row["participant"], f"{where} › participant", out["participants"]))
            self.once(pair, where, seen)
            offers.append({"action": pair[0], "participant": pair[1],
                           "role": self.choice(row["role"], f"{where} › role", ROLES),
                           "created_at": self.stamp(row["created_at"], f"{where} › created_at")})
        ratings, seen = [], set()
        for where, row in self.records(data, "ratings", ("action", "participant", "impact", "effort",
                                                        "updated_at")):
            pair = (self.ref(row["action"], f"{where} › action", out["actions"]),
                    self.ref(row["participant"], f"{where} › participant", out["participants"]))
            self.once(pair, where, seen)
            ratings.append({"action": pair[0], "participant": pair[1],
                            "impact": self.number(row["impact"], f"{where} › impact", 1, actions.SCALE),
                            "effort": self.number(row["effort"], f"{where} › effort", 1, actions.SCALE),
                            "updated_at": self.stamp(row["updated_at"], f"{where} › updated_at")})
        return offers, ratings

    def texts(self, data) -> list[dict]:
        seen, checked = set(), []
        for where, row in self.records(data, "texts", ("key", "body", "version", "updated_at")):
            key = self.choice(row["key"], f"{where} › key", texts.KEYS)
            self.once(key, f"{where} › key", seen)
            checked.append({"key": key, "body": self.text(row["body"], f"{where} › body", texts.MAX_TEXT),
                            "version": self.number(row["version"], f"{where} › version", 0, MAX_VERSION),
                            "updated_at": self.stamp(row["updated_at"], f"{where} › updated_at", nullable=True)})
        return checked

    def edits(self, data, out) -> list[dict]:
        checked = []
        for where, row in self.records(data, "edits", ("subject", "version", "kind", "changes", "snapshot",
                                                      "participant", "by_facilitator", "at")):
            subject = row["subject"]
            found = _SUBJECT.fullmatch(subject) if isinstance(subject, str) else None
            if not found or (found.group(3) and found.group(4) not in texts.KEYS):
                _fail(N_("The file is damaged at %(where)s: this is not one of the allowed values."),
                      f"{where} › subject")
            fields = ACTION_RECORD if found.group(1) else ("body",)
            snapshot = {field: self.history_value(field, value, f"{where} › snapshot › {field}", fields, out)
                        for field, value in self.mapping(row["snapshot"], f"{where} › snapshot").items()}
            changes = {}
            for field, pair in self.mapping(row["changes"], f"{where} › changes").items():
                at = f"{where} › changes › {field}"
                if not isinstance(pair, list) or len(pair) != 2:
                    _fail(N_("The file is damaged at %(where)s: this value has the wrong type."), at)
                changes[field] = [self.history_value(field, value, at, fields, out) for value in pair]
            checked.append({
                "action": int(found.group(2)) if found.group(1) else None,
                "text": found.group(4),
                "version": self.number(row["version"], f"{where} › version", 1, MAX_VERSION),
                "kind": self.choice(row["kind"], f"{where} › kind", EDIT_KINDS),
                "changes": changes, "snapshot": snapshot,
                "participant": self.ref(row["participant"], f"{where} › participant", out["participants"],
                                        nullable=True),
                "by_facilitator": self.flag(row["by_facilitator"], f"{where} › by_facilitator"),
                "at": self.stamp(row["at"], f"{where} › at"),
            })
        return checked

    def mapping(self, value, where: str) -> dict:
        if not isinstance(value, dict):
            _fail(N_("The file is damaged at %(where)s: this value has the wrong type."), where)
        return value

    def history_value(self, field: str, value, where: str, fields, out: dict):
        """One field of a record as the history kept it: text, or the file id of an item."""
        if field not in fields:
            _fail(N_("The file is damaged at %(where)s: this field is unknown."), where)
        if field.endswith("_id"):
            return self.ref(value, where, out["items"], nullable=True)
        return self.text(value, where, MAX_HISTORY_TEXT, nullable=True)

    def drafts(self, data) -> list[dict]:
        seen, checked = set(), []
        for where, row in self.records(data, "drafts", ("version", "language", "created_at", "changes",
                                                       "snapshot", "docx")):
            version = self.number(row["version"], f"{where} › version", 1, MAX_ID)
            self.once(version, f"{where} › version", seen)
            docx = row["docx"]
            if not isinstance(docx, str):
                _fail(N_("The file is damaged at %(where)s: this value has the wrong type."), f"{where} › docx")
            try:
                document = base64.b64decode(docx, validate=True)
            except (binascii.Error, ValueError):
                document = b""
            if not document.startswith(b"PK\x03\x04"):
                _fail(N_("The file is damaged at %(where)s: this is not a Word document."), f"{where} › docx")
            checked.append({
                "version": version,
                "language": self.choice(row["language"], f"{where} › language", LANGUAGES),
                "created_at": self.stamp(row["created_at"], f"{where} › created_at"),
                "changes": self.draft_changes(row["changes"], f"{where} › changes"),
                "snapshot": self.draft_snapshot(row["snapshot"], f"{where} › snapshot"),
                "docx": document,
            })
        return checked

    def draft_snapshot(self, value, where: str):
        """What a draft remembers of the agenda: each action's fields by file id, the priorities."""
        if value is None:
            return None
        self.record(value, where, ("actions", "priorities"))
        remembered = {}
        for key, fields in self.mapping(value["actions"], f"{where} › actions").items():
            at = f"{where} › actions › {key}"
            if not re.fullmatch(r"[1-9]\d{0,8}", key):
                _fail(N_("The file is damaged at %(where)s: this value has the wrong type."), at)
            remembered[key] = {self.text(field, f"{at} › {field}", 40, required=True):
                               self.text(text, f"{at} › {field}", MAX_HISTORY_TEXT, nullable=True)
                               for field, text in self.mapping(fields, at).items()}
        return {"actions": remembered,
                "priorities": self.texts_list(value["priorities"], f"{where} › priorities")}

    def draft_changes(self, value, where: str):
        """What changed since the draft before, as the document tells it; keys keep the file's order."""
        if value is None:
            return None
        self.record(value, where, (*DRAFT_LISTS, "moved", "since"))
        checked = {}
        for key, entry in value.items():
            at = f"{where} › {key}"
            if key == "since":
                checked[key] = self.number(entry, at, 1, MAX_ID)
            elif key == "moved":
                if not isinstance(entry, list):
                    _fail(N_("The file is damaged at %(where)s: this value has the wrong type."), at)
                checked[key] = [self.moved(move, f"{at} #{number}") for number, move in enumerate(entry, 1)]
            else:
                checked[key] = self.texts_list(entry, at)
        return checked

    def moved(self, value, where: str) -> dict:
        """A priority that changed place between two drafts."""
        self.record(value, where, ("title", "from", "to"))
        return {field: self.text(entry, f"{where} › title", MAX_HISTORY_TEXT) if field == "title"
                else self.number(entry, f"{where} › {field}", 1, MAX_ID) for field, entry in value.items()}


def _write(db: Database, facilitator_id: int, data: dict, structure_only: bool) -> dict:
    """Insert the checked data as a new workshop; runs inside the caller's write transaction."""
    details = data["workshop"]
    while True:
        code = workshops.new_code()
        if not db.execute("SELECT 1 FROM workshops WHERE code = ?", [code]).fetchone():
            break
    now = workshops.now()
    workshop_id = db["workshops"].insert({
        **{key: details[key] for key in ("title", "region", "sector", "date", "language", "dots", "anonymous")},
        "code": code, "facilitator_id": facilitator_id, "created_at": now,
        # A template starts at the beginning; a moved workshop carries on where it was.
        "step": workshops.STEP_KEYS[0] if structure_only else details["step"],
        "closed_at": None if structure_only else details["closed_at"],
    }).last_pk
    for row in data["steps"]:
        running = {} if structure_only else {"locked": row["locked"], "revealed": row["revealed"]}
        db["step_settings"].insert({"workshop_id": workshop_id, "step": row["step"], "method": row["method"],
                                    "cap": row["cap"], "named_votes": row["named_votes"], **running})
    people, codes = {}, set()
    for key, row in ({} if structure_only else data["participants"]).items():
        rejoin = participant.new_rejoin_code()
        while rejoin in codes:
            rejoin = participant.new_rejoin_code()
        codes.add(rejoin)
        people[key] = db["participants"].insert({**row, "workshop_id": workshop_id, "rejoin_code": rejoin}).last_pk
    items = {}
    for key, row in data["items"].items():
        if structure_only and row["merged_into"] is not None:
            continue  # a merged duplicate means nothing without the votes it handed on
        kept = {**row, "merged_into": None, "added_by": people.get(row["added_by"]), "workshop_id": workshop_id}
        if structure_only:
            kept.update(adopted=0, on_behalf=0)
        items[key] = db["items"].insert(kept).last_pk
    for key, row in data["items"].items():
        if key in items and row["merged_into"] is not None:
            db.execute("UPDATE items SET merged_into = ? WHERE id = ?", [items[row["merged_into"]], items[key]])
    for row in data["texts"]:
        db["agenda_texts"].insert({**row, "workshop_id": workshop_id})
    if not structure_only:
        _write_room(db, workshop_id, facilitator_id, data, people, items)
    return workshops.get(db, workshop_id)


def _write_room(db: Database, workshop_id: int, facilitator_id: int, data: dict, people: dict, items: dict):
    """What the room did: votes, comments, actions, history and drafts."""
    for row in data["votes"]:
        db["votes"].insert({"participant_id": people[row["participant"]], "item_id": items[row["item"]],
                            "dots": row["dots"], "updated_at": row["updated_at"]})
    for row in data["step_done"]:
        db["step_done"].insert({"participant_id": people[row["participant"]], "step": row["step"],
                                "done_at": row["done_at"]})
    for row in data["comments"]:
        db["comments"].insert({"workshop_id": workshop_id, "item_id": items[row["item"]],
                               "participant_id": people.get(row["participant"]), "body": row["body"],
                               "hidden": row["hidden"], "created_at": row["created_at"]})
    done_actions, named = {}, {}
    for key, row in data["actions"].items():
        named[key] = secrets.token_hex(16)
        done_actions[key] = db["actions"].insert({
            **{field: row[field] for field in _ACTION_TEXTS},
            "workshop_id": workshop_id, "recommendation_id": items[row["recommendation"]],
            "answers_item_id": items.get(row["answers"]), "proposed_by": people.get(row["proposed_by"]),
            **{field: row[field] for field in ("status", "progress_at", "version", "created_at", "updated_at")},
            "uid": named[key],
        }).last_pk

    def uid(key: int) -> str:
        # A removed action has no row, only its name in the history and drafts: a new one too.
        return named.setdefault(key, secrets.token_hex(16))

    for row in data["volunteers"]:
        db["action_volunteers"].insert({"action_id": done_actions[row["action"]],
                                        "participant_id": people[row["participant"]], "role": row["role"],
                                        "created_at": row["created_at"]})
    for row in data["ratings"]:
        db["action_ratings"].insert({"action_id": done_actions[row["action"]],
                                     "participant_id": people[row["participant"]], "impact": row["impact"],
                                     "effort": row["effort"], "updated_at": row["updated_at"]})
    for row in data["edits"]:
        if row["action"] is not None:
            subject = f"action:{uid(row['action'])}"
            snapshot = _with_item_ids(row["snapshot"], items.get)
            changes = {field: [_item_id(field, value, items.get) for value in pair]
                       for field, pair in row["changes"].items()}
        else:
            subject, snapshot, changes = f"text:{row['text']}", row["snapshot"], row["changes"]
        db["edits"].insert({
            "workshop_id": workshop_id, "subject": subject, "version": row["version"], "kind": row["kind"],
            "changes": json.dumps(changes, ensure_ascii=False), "snapshot": json.dumps(snapshot, ensure_ascii=False),
            "participant_id": people.get(row["participant"]),
            "facilitator_id": facilitator_id if row["by_facilitator"] else None, "at": row["at"],
        })
    comments = [row[0] for row in db.execute("SELECT id FROM comments WHERE workshop_id = ? ORDER BY id",
                                             [workshop_id])]
    numbering = {"participants": people, "items": items, "actions": done_actions,
                 "comments": dict(enumerate(comments, 1))}
    for row in data["audit"]:
        detail = {key: numbering[AUDIT_REFERENCES[key]].get(value) if key in AUDIT_REFERENCES else value
                  for key, value in row["detail"].items()}
        db["audit"].insert({
            "workshop_id": workshop_id, "at": row["at"], "actor_kind": row["actor_kind"],
            # Facilitators' ids belong to the server the file came from; their names are kept.
            "actor_id": people.get(row["actor_participant"]) if row["actor_kind"] == "participant" else None,
            "actor": row["actor"], "event": row["event"], "subject": row["subject"],
            "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True),
        })
    for row in data["drafts"]:
        snapshot = row["snapshot"]
        if isinstance(snapshot, dict) and isinstance(snapshot.get("actions"), dict):
            snapshot = {**snapshot, "actions": {uid(int(key)): value
                                                for key, value in snapshot["actions"].items()}}
        db["drafts"].insert({
            "workshop_id": workshop_id, "version": row["version"], "language": row["language"],
            "created_at": row["created_at"], "docx": row["docx"],
            "changes": None if row["changes"] is None else json.dumps(row["changes"], ensure_ascii=False),
            "snapshot": None if snapshot is None else json.dumps(snapshot, ensure_ascii=False),
        })
