"""The agenda built from a real workshop, and its document read back with exact figures."""
import io

from docx import Document

from toolkit import action, agenda, participant, vote
from toolkit import workshop as workshops


def _text(document):
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def _run_workshop(db, workshop):
    """Three people vote on drivers and recommendations; one recommendation gets an action."""
    workshops.set_step(db, workshop["id"], "drivers")
    workshop = workshops.get(db, workshop["id"])
    people = [participant.join(db, workshop, {"name": f"Naam {g}", "organisation": f"Org {g}",
                                              "stakeholder_group": g})
              for g in ("companies", "education", "workers")]
    drivers = workshops.items(db, workshop, kinds=("driver",))
    for person, dots in zip(people, (3, 1, 2)):
        vote.set_dots(db, workshop, person["id"], drivers[2]["id"], dots)
    vote.set_dots(db, workshop, people[0]["id"], drivers[0]["id"], 2)
    workshops.set_step(db, workshop["id"], "recommendations")
    workshop = workshops.get(db, workshop["id"])
    recommendation = workshops.items(db, workshop, kinds=("recommendation",))[4]
    for person in people:
        vote.set_dots(db, workshop, person["id"], recommendation["id"], 4)
    workshops.set_adopted(db, workshop, recommendation["id"], True)
    workshops.set_adopted(db, workshop, drivers[2]["id"], True)
    workshops.set_step(db, workshop["id"], "actions")
    workshop = workshops.get(db, workshop["id"])
    action.propose(db, workshop, {"recommendation_id": recommendation["id"], "what": "Fieldlab Twente",
                                  "lead": "Regio Twente", "partners": "Saxion", "timeline": "2027",
                                  "resources": "Regio Deal", "indicator": "5 leerlijnen"})
    workshops.add_item(db, workshop, {"title": "Eigen drijfveer", "kind": "driver"}, ("driver",))
    return workshop, drivers, recommendation


def test_agenda_holds_exact_tallies(db, workshop):
    workshop, drivers, recommendation = _run_workshop(db, workshop)
    built = agenda.build(db, workshop, 1)
    first = built["sections"]["drivers"][0]
    assert (first["title"], first["dots"], first["voters"]) == (drivers[2]["title"], 6, 3)
    assert {g["key"]: g["dots"] for g in first["by_group"]} == {
        "companies": 3, "education": 1, "government": 0, "workers": 2, "other": 0}
    assert [p["title"] for p in built["priorities"]] == [recommendation["title"], drivers[2]["title"]]
    assert built["participation"]["total"] == 3
    origins = {i["title"]: i["origin"] for i in built["sections"]["drivers"]}
    assert origins["Eigen drijfveer"] == "workshop" and origins[drivers[0]["title"]] == "study"
    assert {i["origin"] for i in built["sections"]["barriers"]} == {"derived"}
    assert built["actions"][0]["recommendation"] == recommendation["title"]


def test_document_figures_equal_the_votes_cast(db, workshop):
    workshop, drivers, recommendation = _run_workshop(db, workshop)
    draft = agenda.export_draft(db, workshop)
    document = Document(io.BytesIO(draft["docx"]))
    text = _text(document)
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading 1")]
    for expected in ("Inleiding en werkwijze", "Wie deden er mee", "Wat drijft de regio",
                     "Knelpunten en succesfactoren", "Actieplan", "Bronvermelding"):
        assert any(expected in heading for heading in headings), (expected, headings)
    assert "Fieldlab Twente" in text and "Regio Twente" in text
    # The annex row of the leading driver carries its exact per-group and total figures.
    row = next(r for t in document.tables for r in t.rows if r.cells[0].text.startswith(drivers[2]["title"]))
    assert [c.text for c in row.cells[1:]] == ["3", "1", "0", "2", "0", "6", "3"]  # groups, total, voters
    assert "Naam companies" in text


def test_drafts_are_numbered_and_kept(db, workshop):
    versions = [agenda.export_draft(db, workshop)["version"] for _ in range(3)]
    assert versions == [1, 2, 3]
    assert [d["version"] for d in agenda.drafts(db, workshop)] == [3, 2, 1]
    assert agenda.draft(db, workshop, 1)["docx"][:2] == b"PK"


def test_anonymous_workshop_names_nobody(db, facilitator):
    from conftest import WORKSHOP_FORM

    anonymous = workshops.create(db, facilitator.account["id"], {**WORKSHOP_FORM, "anonymous": "1"})
    participant.join(db, anonymous, {"name": "Geheim", "organisation": "Org", "stakeholder_group": "other"})
    built = agenda.build(db, anonymous, 1)
    assert built["participation"]["participants"][0]["name"] is None
    assert "Geheim" not in _text(Document(io.BytesIO(agenda.export_draft(db, anonymous)["docx"])))


def test_actions_of_a_recommendation_taken_out_stay_but_leave_the_agenda(db, workshop, facilitator):
    workshop, _drivers, recommendation = _run_workshop(db, workshop)
    workshops.set_adopted(db, workshop, recommendation["id"], False)
    assert agenda.build(db, workshop, 1)["actions"] == []
    assert [a["what"] for a in action.for_workshop(db, workshop)] == ["Fieldlab Twente"]
    page = facilitator.get(f"/facilitator/workshops/{workshop['code']}?step=actions").get_data(as_text=True)
    assert "Fieldlab Twente" in page and "niet meer in de agenda" in page
    document = Document(io.BytesIO(agenda.export_draft(db, workshop)["docx"]))
    assert "Fieldlab Twente" not in _text(document)
    workshops.set_adopted(db, workshop, recommendation["id"], True)
    assert [a["what"] for a in agenda.build(db, workshop, 2)["actions"]] == ["Fieldlab Twente"]
