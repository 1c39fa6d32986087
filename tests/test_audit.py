"""The audit log: every deed of the room and the facilitators, named, timed, viewable and exported."""
import json

from conftest import at_step, join
from toolkit import audit, participant, transfer
from toolkit import workshop as workshops


def _events(db, workshop):
    return [entry["event"] for entry in reversed(audit.entries(db, workshop))]


def test_a_workshop_day_leaves_a_full_trail(app, db, facilitator, workshop):
    code = workshop["code"]
    anna = join(app, workshop, name="Anna", organisation="Norma")
    facilitator.post(f"/facilitator/workshops/{code}/step", {"step": "drivers"})
    item = workshops.items(db, workshop, ("driver",))[0]
    anna.post(f"/w/{code}/items/{item['id']}/dots", {"dots": "2"})
    anna.post(f"/w/{code}/items/{item['id']}/dots", {"dots": "3"})
    anna.post(f"/w/{code}/items/{item['id']}/dots", {"dots": "0"})
    anna.post(f"/w/{code}/items", {"title": "Own driver", "request_token": "a1"})
    own = [i for i in workshops.items(db, workshop, ("driver",)) if i["title"] == "Own driver"][0]
    anna.post(f"/w/{code}/items/{own['id']}/comments", {"body": "Yes", "request_token": "c1"})
    assert facilitator.post(f"/facilitator/workshops/{code}/merge",
                            {"source_id": own["id"], "target_id": item["id"]}).status_code == 303
    facilitator.post(f"/facilitator/workshops/{code}/steps/drivers", {"change": "reveal"})
    facilitator.get(f"/facilitator/workshops/{code}/votes.csv")
    events = _events(db, workshop)
    for expected in ("workshop_created", "joined", "step_changed", "vote_cast", "vote_changed",
                     "vote_taken_back", "item_added", "comment_added", "items_merged", "step_settings", "exported"):
        assert expected in events, expected
    by_event = {entry["event"]: entry for entry in audit.entries(db, workshop)}
    assert by_event["vote_cast"]["actor_kind"] == "participant"
    assert by_event["vote_cast"]["actor"] == "Anna (Norma)"
    assert by_event["vote_changed"]["detail"] == {"item": item["id"], "before": 2, "after": 3}
    assert by_event["step_changed"]["actor_kind"] == "facilitator"
    assert by_event["step_changed"]["actor"] == facilitator.account["name"]


def test_a_resent_form_is_logged_once(app, db, workshop):
    at_step(db, workshop, "drivers")
    anna = join(app, workshop)
    for _ in range(3):
        anna.post(f"/w/{workshop['code']}/items", {"title": "Once", "request_token": "same"})
    assert _events(db, workshop).count("item_added") == 1


def test_a_refused_deed_leaves_no_entry(app, db, workshop):
    at_step(db, workshop, "drivers")
    anna = join(app, workshop)
    item = workshops.items(db, workshop, ("driver",))[0]
    before = len(audit.entries(db, workshop))
    assert anna.post(f"/w/{workshop['code']}/items/{item['id']}/dots", {"dots": "99"}).status_code == 422
    assert len(audit.entries(db, workshop)) == before


def test_anonymous_workshops_log_organisations_only(app, db, facilitator):
    anonymous = workshops.create(db, facilitator.account["id"], {
        "title": "A", "region": "R", "sector": "S", "date": "2026-12-01", "language": "en", "dots": "3",
        "anonymous": "1"})
    join(app, anonymous, name="Secret", organisation="Open BV")
    joined = [entry for entry in audit.entries(db, anonymous) if entry["event"] == "joined"][0]
    assert joined["subject"] == "Open BV" and "Secret" not in json.dumps(joined)


def test_facilitators_see_the_log_page_by_page(app, db, facilitator, workshop, monkeypatch):
    from toolkit.web import facilitator as facilitator_views

    monkeypatch.setattr(facilitator_views, "AUDIT_PAGE", 3)
    for step in ("drivers", "barriers", "recommendations", "actions"):
        workshops.set_step(db, workshop["id"], step)
    first = facilitator.get(f"/facilitator/workshops/{workshop['code']}/audit").get_data(as_text=True)
    assert first.count("<tr><td>") == 3 and "before=" in first
    older = first.split('before=')[1].split('"')[0]
    second = facilitator.get(f"/facilitator/workshops/{workshop['code']}/audit?before={older}")
    assert second.get_data(as_text=True).count("<tr><td>") == 2  # the two oldest: created, drivers


def test_the_log_is_not_for_participants_or_other_facilitators(app, db, workshop):
    anna = join(app, workshop)
    assert anna.get(f"/facilitator/workshops/{workshop['code']}/audit").status_code == 302


def test_the_log_is_in_the_json_export_with_file_ids(app, db, facilitator, workshop):
    at_step(db, workshop, "drivers")
    anna = join(app, workshop, name="Anna")
    item = workshops.items(db, workshop, ("driver",))[-1]
    anna.post(f"/w/{workshop['code']}/items/{item['id']}/dots", {"dots": "1"})
    data = transfer.export_workshop(db, workshop)
    cast = [entry for entry in data["audit"] if entry["event"] == "vote_cast"][0]
    assert cast["actor_participant"] == 1 and cast["actor"] == "Anna (Acme)"
    assert data["items"][cast["detail"]["item"] - 1]["catalogue_id"] == item["catalogue_id"]
    downloaded = json.loads(facilitator.get(f"/facilitator/workshops/{workshop['code']}/workshop.json").get_data())
    # The download does not hold its own export: that is logged after the file is made.
    assert downloaded["audit"] == data["audit"]
    assert _events(db, workshop)[-1] == "exported"


def test_every_kind_of_deed_the_issue_names_is_logged(app, db, facilitator, workshop):
    """Edits, adoption, hiding, ratings, offers, closing, team changes and Word drafts, each with its event."""
    from conftest import make_facilitator, person
    from toolkit import action, agenda, cofacilitator, comment, merge, texts

    recommendation = workshops.items(db, workshop, kinds=("recommendation",))[0]
    workshops.set_adopted(db, workshop, recommendation["id"], True)
    workshops.set_adopted(db, workshop, recommendation["id"], False)
    workshops.set_adopted(db, workshop, recommendation["id"], True)
    workshop = at_step(db, workshop, "drivers")
    anna = person(db, workshop, "companies", "Anna", "Norma")
    own = workshops.add_item(db, workshop, {"title": "Own"}, ("driver",), participant_id=anna["id"])
    merge.edit(db, workshop, own["id"], {"title": "Own, reworded"})
    workshops.set_hidden(db, workshop, own["id"], True)
    workshops.set_hidden(db, workshop, own["id"], False)
    said = comment.add(db, workshop, own["id"], {"body": "Yes"}, participant_id=anna["id"])
    comment.set_hidden(db, workshop, said["id"], True)
    workshop = at_step(db, workshop, "actions")
    made = action.propose(db, workshop, {"recommendation_id": recommendation["id"], "what": "Leerrecht",
                                         "lead": "FNV"}, participant_id=anna["id"])
    action.edit(db, workshop, made["id"], {**made, "recommendation_id": recommendation["id"], "lead": "Norma",
                                           "version": made["version"]}, participant_id=anna["id"])
    action.volunteer(db, workshop, made["id"], anna["id"], "lead")
    action.rate(db, workshop, made["id"], anna["id"], {"impact": "4", "effort": "2"})
    texts.save(db, workshop, "vision", {"body": "Samen", "version": "0"}, participant_id=anna["id"])
    agenda.export_draft(db, workshop)
    action.remove(db, workshop, made["id"], facilitator_id=facilitator.account["id"])
    colleague = make_facilitator(db, "co@example.org", "Co")
    cofacilitator.invite(db, workshop, colleague["email"], facilitator.account)
    cofacilitator.remove(db, workshop, colleague["id"])
    workshops.set_closed(db, workshop, True)
    workshops.set_closed(db, workshop, False)
    events = _events(db, workshop)
    for expected in ("item_adopted", "item_dropped", "item_edited", "item_hidden", "item_shown", "comment_hidden",
                     "action_proposed", "action_edited", "action_volunteered", "action_rated", "text_edited",
                     "exported", "action_removed", "cofacilitator_added", "cofacilitator_removed",
                     "workshop_closed", "workshop_reopened"):
        assert expected in events, expected
    edited = [e for e in audit.entries(db, workshop) if e["event"] == "action_edited"][0]
    assert edited["subject"] == "Leerrecht" and edited["detail"]["fields"] == ["lead"]
    draft = [e for e in audit.entries(db, workshop) if e["event"] == "exported"][0]
    assert draft["detail"] == {"format": "docx", "version": 1}


def test_continuing_on_another_device_is_logged(app, db, workshop):
    browser = join(app, workshop, name="Pat")
    me = participant.get(db, workshop, browser.participant_id)
    from conftest import Visitor

    assert Visitor(app.test_client()).get(f"/r/{workshop['code']}/{me['rejoin_code']}").status_code == 303
    other = Visitor(app.test_client())
    assert other.post(f"/j/{workshop['code']}/rejoin", {"rejoin_code": me["rejoin_code"]}).status_code == 303
    assert _events(db, workshop).count("rejoined") == 2


def test_a_page_number_too_large_for_sqlite_is_the_first_page(facilitator, workshop):
    for before in ("9223372036854775808", "-1", "0", "x"):
        response = facilitator.get(f"/facilitator/workshops/{workshop['code']}/audit?before={before}")
        assert response.status_code == 200
