"""The draft agenda as plain data, built from a workshop, and its numbered drafts."""
import datetime
import json

from babel.dates import format_date
from sqlite_utils import Database

from toolkit import action as actions
from toolkit import audit, catalogue, comment, documents, limits, participant, texts, vote
from toolkit import workshop as workshops
from toolkit.db import writing
from toolkit.i18n import gettext_for
from toolkit.validation import NotFound, row_id

SECTIONS = (
    ("drivers", "driver"),
    ("barriers", "barrier"),
    ("success_factors", "success_factor"),
    ("recommendations", "recommendation"),
)


def build(db: Database, workshop: dict, version: int) -> dict:
    """Everything the document shows, in the workshop's language, as plain data."""
    lang = workshop["language"]
    _ = gettext_for(lang)
    tallies = vote.tallies(db, workshop)
    group_labels = [(key, _(label)) for key, label in participant.GROUPS]

    def with_votes(item):
        tally = tallies.get(item["id"], vote.empty_tally())
        return {
            "id": item["id"],
            "title": item["title"],
            "explanation": item["explanation"],
            "kind_label": _(catalogue.KINDS[item["kind"]]),
            "origin": item["origin"],
            "source": item["source"],
            "reference": item["reference"],
            "derived_from": item["derived_from"],
            "dots": tally["total"],
            "voters": tally["voters"],
            "by_group": [
                {"key": key, "label": label, "dots": tally["by_group"][key]}
                for key, label in group_labels
            ],
            "adopted": item["adopted"],
        }

    sections = {}
    for name, kind in SECTIONS:
        listed = [with_votes(item) for item in workshops.items(db, workshop, kinds=(kind,))]
        # Stable sort: equal votes keep the study's order.
        sections[name] = sorted(listed, key=lambda item: -item["dots"])
    priorities = sorted(
        (item for name, _kind in SECTIONS for item in sections[name] if item["adopted"]),
        key=lambda item: -item["dots"],
    )

    people = participant.in_room(db, workshop)
    counts = participant.count_by_group(db, workshop)
    labels = dict(group_labels)
    facilitator = db.execute(
        "SELECT name FROM facilitators WHERE id = ?", [workshop["facilitator_id"]]
    ).fetchone()
    return {
        "language": lang,
        "version": version,
        "generated_at": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "workshop": {
            "title": workshop["title"],
            "region": workshop["region"],
            "sector": workshop["sector"],
            "date": workshop["date"],
            "facilitator": facilitator[0] if facilitator else "",
            "anonymous": bool(workshop["anonymous"]),
            "dots": workshop["dots"],
            "closed": bool(workshop.get("closed_at")),
        },
        "study": catalogue.study(lang),
        "research_questions": [
            {"title": item["title"], "explanation": item["explanation"]}
            for item in catalogue.items(db, lang, "research_question")
        ],
        "participation": {
            "total": len(people),
            "groups": [
                {"key": key, "label": label, "count": counts[key]} for key, label in group_labels
            ],
            "organisations": sorted({p["organisation"] for p in people}, key=str.casefold),
            "participants": [
                {
                    "name": None if workshop["anonymous"] else p["name"],
                    "organisation": p["organisation"],
                    "group_label": labels[p["stakeholder_group"]],
                }
                for p in people
            ],
        },
        "sections": sections,
        "priorities": priorities,
        "texts": {key: row["body"] for key, row in texts.all_texts(db, workshop).items()},
        **_action_plan(db, workshop, _),
        "comments": _comments(db, workshop, _),
    }


def _action_plan(db: Database, workshop: dict, _) -> dict:
    """The actions in the agenda, numbered in document order, with their ratings and the matrix."""
    lang = workshop["language"]
    items = {item["id"]: item for item in workshops.items(db, workshop, include_hidden=True)}
    offered = actions.volunteers(db, workshop)
    rated = actions.ratings(db, workshop)
    status_labels = {key: _(label) for key, label in actions.STATUSES}
    role_labels = {key: _(label) for key, label in actions.ROLES}
    listed = []
    for row in actions.for_workshop(db, workshop):
        if not row["in_agenda"]:
            continue
        recommendation = items.get(row["recommendation_id"], {})
        answers = items.get(row["answers_item_id"]) if row["answers_item_id"] else None
        rating = rated.get(row["id"], {})
        listed.append({
            "id": row["id"],
            "uid": row["uid"],
            "number": len(listed) + 1,
            "recommendation": recommendation.get("title", ""),
            "recommendation_origin": recommendation.get("origin", "workshop"),
            "what": row["what"],
            "why": answers["title"] if answers else "",
            "lead": row["lead"],
            "partners": row["partners"],
            "volunteers": [
                {"organisation": v["organisation"], "role": v["role"],
                 "role_label": role_labels[v["role"]]}
                for v in offered.get(row["id"], [])
            ],
            "starts": row["starts"],
            "ends": row["ends"],
            "timing": timing(row["starts"], row["ends"], lang),
            "timeline": row["timeline"],
            "resources": row["resources"],
            "indicator": row["indicator"],
            "first_step": row["first_step"],
            "status": row["status"],
            "status_label": status_labels[row["status"]],
            "progress": row["progress"],
            "progress_updated": (row["progress_at"] or "")[:10],
            "impact": rating.get("impact"),
            "effort": rating.get("effort"),
            "ratings": rating.get("ratings", 0),
            "quadrant": rating.get("quadrant"),
        })
    matrix = {
        "scale": actions.SCALE,
        "threshold": actions.THRESHOLD,
        "quadrants": [
            {"key": key, "label": _(label), "description": _(description),
             "actions": [a["number"] for a in listed if a["quadrant"] == key]}
            for key, label, description in actions.QUADRANTS
        ],
        "unrated": [a["number"] for a in listed if a["quadrant"] is None],
    }
    followup = any(a["status"] != "planned" or a["progress"] for a in listed)
    return {"actions": listed, "matrix": matrix, "followup": followup}


def _comments(db: Database, workshop: dict, _) -> list[dict]:
    """The visible comments on the agenda's items, grouped per item, for the annex."""
    grouped = []
    for row in comment.for_workshop(db, workshop):
        if row["item_hidden"]:
            continue
        if not grouped or grouped[-1]["item_id"] != row["item_id"]:
            grouped.append({"item_id": row["item_id"], "item": row["item_title"],
                            "kind_label": _(catalogue.KINDS[row["item_kind"]]), "comments": []})
        grouped[-1]["comments"].append({
            "body": row["body"],
            "author": row["name"],
            "organisation": row["organisation"],
            "at": row["created_at"][:16].replace("T", " "),
        })
    return grouped


def format_period(value: str, lang: str) -> str:
    """A stored period as a reader writes it: 2027, Q2 2027, March 2027, 15 March 2027."""
    first, _last = actions.period_bounds(value)
    parts = value.split("-")
    if len(parts) == 1:
        return value
    if parts[1].startswith("Q"):
        return f"{parts[1]} {parts[0]}"
    if len(parts) == 2:
        return format_date(first, "MMMM y", locale=lang)
    return format_date(first, "d MMMM y", locale=lang)


def timing(starts: str, ends: str, lang: str) -> str:
    """When an action runs, in words: a range, from a start, or until an end."""
    _ = gettext_for(lang)
    if starts and ends:
        return f"{format_period(starts, lang)} – {format_period(ends, lang)}"
    if starts:
        return _("from %(start)s") % {"start": format_period(starts, lang)}
    if ends:
        return _("until %(end)s") % {"end": format_period(ends, lang)}
    return ""


def snapshot(agenda: dict) -> dict:
    """What a draft remembers to tell the next one what changed."""
    return {
        "actions": {
            a["uid"]: {key: a[key] for key in ("what", "recommendation", "lead", "partners", "starts",
                                                   "ends", "timeline", "resources", "indicator",
                                                   "first_step", "why", "status", "progress")}
            for a in agenda["actions"]
        },
        "priorities": [item["title"] for item in agenda["priorities"]],
    }


def changes(before: dict | None, after: dict) -> dict | None:
    """What changed between two drafts' snapshots, in the words a reader needs."""
    if before is None:
        return None
    old, new = before["actions"], after["actions"]
    progress_keys = ("status", "progress")
    found = {
        "added": [new[key]["what"] for key in new if key not in old],
        "removed": [old[key]["what"] for key in old if key not in new],
        "changed": [], "progress": [], "moved": [],
    }
    for key in new:
        if key not in old:
            continue
        # Only what both drafts remember: an older draft may not have kept every field.
        differing = {field for field in new[key]
                     if field in old[key] and new[key][field] != old[key][field]}
        if differing - set(progress_keys):
            found["changed"].append(new[key]["what"])
        if differing & set(progress_keys):
            found["progress"].append(new[key]["what"])
    ranks = {title: rank for rank, title in enumerate(before["priorities"], 1)}
    for rank, title in enumerate(after["priorities"], 1):
        if title in ranks and ranks[title] != rank:
            found["moved"].append({"title": title, "from": ranks[title], "to": rank})
    found["new_priorities"] = [t for t in after["priorities"] if t not in ranks]
    found["dropped_priorities"] = [t for t in before["priorities"] if t not in after["priorities"]]
    return found


def _previous_snapshot(db: Database, workshop: dict, version: int) -> tuple[int, dict] | None:
    row = db.execute(
        "SELECT version, snapshot FROM drafts WHERE workshop_id = ? AND version < ? "
        "AND snapshot IS NOT NULL AND (length(docx) > 0 OR withdrawn_at IS NOT NULL) "
        "ORDER BY version DESC LIMIT 1",
        [workshop["id"], version],
    ).fetchone()
    return None if row is None else (row[0], json.loads(row[1]))


def with_changes(db: Database, workshop: dict, agenda: dict) -> dict:
    """The agenda with what changed since the draft before it."""
    previous = _previous_snapshot(db, workshop, agenda["version"])
    found = changes(previous[1] if previous else None, snapshot(agenda))
    if found is not None:
        found["since"] = previous[0]
    return {**agenda, "changes": found}


def upcoming(db: Database, workshop: dict) -> dict:
    """The agenda as its next draft would have it now, with what changed since the latest draft."""
    return with_changes(db, workshop, build(db, workshop, next_version(db, workshop)))


def next_version(db: Database, workshop: dict) -> int:
    """The number the next draft of this workshop's agenda gets."""
    row = db.execute(
        "SELECT coalesce(max(version), 0) FROM drafts WHERE workshop_id = ?", [workshop["id"]]
    ).fetchone()
    return row[0] + 1


def export_draft(db: Database, workshop: dict) -> dict:
    """Render the agenda to DOCX and keep it as the next numbered draft; returns the draft."""
    with writing(db):
        limits.room_for(db, "drafts", "workshop_id = ?", [workshop["id"]])
        # Reserve the number first, so two exports at once never share one.
        version = next_version(db, workshop)
        draft_id = db["drafts"].insert(
            {"workshop_id": workshop["id"], "version": version, "language": workshop["language"],
             "created_at": workshops.now(), "docx": b""}
        ).last_pk
    # Render outside the write lock: votes keep flowing while the document is built.
    try:
        built = with_changes(db, workshop, build(db, workshop, version))
        docx = documents.render(built)
    except BaseException:
        with writing(db):
            db.execute("DELETE FROM drafts WHERE id = ?", [draft_id])
        raise
    with writing(db):
        db.execute("UPDATE drafts SET docx = ?, snapshot = ?, changes = ? WHERE id = ?",
                   [docx, json.dumps(snapshot(built), ensure_ascii=False),
                    json.dumps(built["changes"], ensure_ascii=False), draft_id])
        audit.record(db, workshop["id"], "exported", f"docx · v{version}", format="docx", version=version)
    return draft(db, workshop, version)


def drafts(db: Database, workshop: dict) -> list[dict]:
    """The workshop's drafts, newest first, with what changed in each but without their bytes.

    A draft withdrawn when its participants were anonymised is listed with withdrawn_at set.
    """
    return [
        {**row, "changes": json.loads(row["changes"]) if row["changes"] else None}
        for row in db.query(
            """SELECT id, version, language, created_at, length(docx) AS size, changes, withdrawn_at
               FROM drafts WHERE workshop_id = ? AND (length(docx) > 0 OR withdrawn_at IS NOT NULL)
               ORDER BY version DESC""",
            [workshop["id"]],
        )
    ]


def draft(db: Database, workshop: dict, version) -> dict:
    """One draft of this workshop with its DOCX bytes, or NotFound."""
    rows = list(
        db.query(
            "SELECT * FROM drafts WHERE workshop_id = ? AND version = ? AND length(docx) > 0",
            [workshop["id"], row_id(version)],
        )
    )
    if not rows:
        raise NotFound(version)
    return rows[0]


def file_name(workshop: dict, version: int) -> str:
    """A safe download name for a draft: the join code and the version, never user text."""
    return f"agenda-{workshop['code']}-v{version}.docx"
