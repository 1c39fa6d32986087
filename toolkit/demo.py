"""A complete demo workshop, run through the same functions a real workshop uses."""
import secrets
from pathlib import Path

import yaml
from sqlite_utils import Database

from toolkit import action, agenda, participant, texts, vote
from toolkit import facilitator as facilitators
from toolkit import workshop as workshops
from toolkit.catalogue import SEED_DIR

DEMO_EMAIL = "demo@example.org"


def _in(value, lang):
    return value[lang] if isinstance(value, dict) else value


def create(db: Database, lang: str, seed_dir=SEED_DIR) -> dict:
    """Create the demo workshop in lang, export its first draft; returns login and draft."""
    data = yaml.safe_load((Path(seed_dir) / "demo.yaml").read_text("utf-8"))
    password = secrets.token_urlsafe(9)
    account = facilitators.by_email(db, DEMO_EMAIL)
    if account is None:
        account = facilitators.create(db, DEMO_EMAIL, "Demo", password)
    else:
        facilitators.set_password(db, DEMO_EMAIL, password)
    spec = data["workshop"]
    workshop = workshops.create(db, account["id"], {
        "title": _in(spec["title"], lang), "region": _in(spec["region"], lang),
        "sector": _in(spec["sector"], lang), "date": workshops.now()[:10],
        "language": lang, "dots": spec["dots"],
    })
    people = [
        participant.join(db, workshop, {"name": p["name"], "organisation": p["organisation"],
                                         "stakeholder_group": p["group"]})
        for p in data["participants"]
    ]
    items = {item["catalogue_id"]: item for item in workshops.items(db, workshop)}

    def cast(item_id, dots_per_person):
        for person, dots in zip(people, dots_per_person):
            if dots:
                vote.set_dots(db, workshop, person["id"], item_id, dots)

    for step in ("drivers", "barriers", "recommendations"):
        workshops.set_step(db, workshop["id"], step)
        workshop = workshops.get(db, workshop["id"])
        for own in data["own_items"]:
            if workshops.KIND_STEP[own["kind"]] == step:
                added = workshops.add_item(db, workshop, {
                    "kind": own["kind"], "title": _in(own["title"], lang),
                    "explanation": _in(own["explanation"], lang),
                }, (own["kind"],), participant_id=people[own["participant"]]["id"])
                cast(added["id"], own["votes"])
        for catalogue_id, dots in data["votes"].items():
            if workshops.KIND_STEP[items[catalogue_id]["kind"]] == step:
                cast(items[catalogue_id]["id"], dots)
    for catalogue_id in data["adopt"]:
        workshops.set_adopted(db, workshop, items[catalogue_id]["id"], True)

    workshops.set_step(db, workshop["id"], "actions")
    workshop = workshops.get(db, workshop["id"])
    by_organisation = {p["organisation"]: p for p in people}
    for spec in data["actions"]:
        form = {field: _in(spec.get(field, ""), lang) for field in action.TEXT_FIELDS + ("starts", "ends")}
        form["recommendation_id"] = items[spec["recommendation"]]["id"]
        if spec.get("answers"):
            form["answers_item_id"] = items[spec["answers"]]["id"]
        proposer = by_organisation.get(spec["lead"])
        made = action.propose(db, workshop, form, participant_id=proposer["id"] if proposer else None)
        for person, (impact, effort) in zip(people, spec.get("ratings", [])):
            action.rate(db, workshop, made["id"], person["id"], {"impact": impact, "effort": effort})
        for index, role in spec.get("volunteers", []):
            action.volunteer(db, workshop, made["id"], people[index]["id"], role)
    workshops.set_step(db, workshop["id"], "review")
    workshop = workshops.get(db, workshop["id"])
    for key, body in data.get("texts", {}).items():
        texts.save(db, workshop, key, {"body": _in(body, lang), "version": 0}, participant_id=people[-1]["id"])
    draft = agenda.export_draft(db, workshop)
    return {"code": workshop["code"], "email": DEMO_EMAIL, "password": password,
            "version": draft["version"], "docx": draft["docx"]}
