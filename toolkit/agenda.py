"""The draft agenda as plain data, built from a workshop, and its numbered drafts."""
import datetime

from sqlite_utils import Database

from toolkit import action as actions
from toolkit import catalogue, participant, vote
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

    recommendation_titles = {
        item["id"]: item["title"]
        for item in workshops.items(db, workshop, kinds=("recommendation",), include_hidden=True)
    }
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
        "actions": [
            {
                "recommendation": recommendation_titles.get(row["recommendation_id"], ""),
                **{field: row[field] for field in actions.FIELDS},
            }
            for row in actions.for_workshop(db, workshop)
            if row["in_agenda"]
        ],
    }


def next_version(db: Database, workshop: dict) -> int:
    """The number the next draft of this workshop's agenda gets."""
    row = db.execute(
        "SELECT coalesce(max(version), 0) FROM drafts WHERE workshop_id = ?", [workshop["id"]]
    ).fetchone()
    return row[0] + 1


def export_draft(db: Database, workshop: dict) -> dict:
    """Render the agenda to DOCX and keep it as the next numbered draft; returns the draft."""
    from toolkit.agenda_docx import render

    with writing(db):
        # Reserve the number first, so two exports at once never share one.
        version = next_version(db, workshop)
        draft_id = db["drafts"].insert(
            {"workshop_id": workshop["id"], "version": version, "language": workshop["language"],
             "created_at": workshops.now(), "docx": b""}
        ).last_pk
    # Render outside the write lock: votes keep flowing while the document is built.
    try:
        docx = render(build(db, workshop, version))
    except BaseException:
        with writing(db):
            db.execute("DELETE FROM drafts WHERE id = ?", [draft_id])
        raise
    with writing(db):
        db.execute("UPDATE drafts SET docx = ? WHERE id = ?", [docx, draft_id])
    return draft(db, workshop, version)


def drafts(db: Database, workshop: dict) -> list[dict]:
    """The workshop's drafts, newest first, without their bytes."""
    return list(
        db.query(
            """SELECT id, version, language, created_at, length(docx) AS size FROM drafts
               WHERE workshop_id = ? AND length(docx) > 0 ORDER BY version DESC""",
            [workshop["id"]],
        )
    )


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
