"""Fields a form does not have change nothing: nobody raises their rights by adding them to a post."""
import pytest
from conftest import WORKSHOP_FORM, Visitor, at_step, join, make_facilitator

from toolkit import action as actions
from toolkit import texts
from toolkit import workshop as workshops

# Everything an attacker might add to a form, pointing at someone else or at a state they may not set.
EXTRA = {"facilitator_id": "2", "workshop_id": "2", "participant_id": "1", "id": "999999", "on_behalf": "1",
         "hidden": "1", "adopted": "1", "anonymous": "1", "code": "HACKED", "revision": "999",
         "closed_at": "2020-01-01", "joining_closed": "1", "status": "done", "progress": "Sneaked in",
         "step": "review", "added_by": "1", "proposed_by": "1", "merged_into": "1", "catalogue_id": "1",
         "rejoin_code": "HACKED99", "session_key": "x", "uid": "x", "created_at": "2020-01-01",
         "kind": "recommendation", "in_agenda": "1", "version": "999"}


def without(fields, *names):
    """EXTRA without the fields that are the form's own."""
    return {k: v for k, v in fields.items() if k not in names}


def newest(db, table):
    """The row added last to table."""
    return next(db.query(f"SELECT * FROM {table} ORDER BY rowid DESC LIMIT 1"))


@pytest.fixture
def room(app, db, facilitator, workshop):
    """A workshop with an adopted recommendation, one action, a joined participant, and another workshop."""
    other = make_facilitator(db, "other@example.org", "Other")
    elsewhere = workshops.create(db, other["id"], WORKSHOP_FORM)
    recommendation = workshops.items(db, workshop, kinds=("recommendation",))[0]
    workshops.set_adopted(db, workshop, recommendation["id"], True)
    workshop = at_step(db, workshop, "drivers")
    person = join(app, workshop)
    made = actions.propose(db, workshop, {"recommendation_id": recommendation["id"], "what": "Plain"})
    extra = {**EXTRA, "workshop_id": str(elsewhere["id"]), "facilitator_id": str(other["id"])}
    return {"workshop": workshop, "person": person, "recommendation": recommendation, "action": made,
            "extra": extra, "elsewhere": elsewhere}


def test_participant_forms_take_only_their_own_fields(app, db, room):
    workshop, person, extra = room["workshop"], room["person"], room["extra"]
    code = workshop["code"]
    # Joining: never "added by the facilitator", never in another workshop, never a chosen personal code.
    newcomer = Visitor(app.test_client())
    assert newcomer.post(f"/j/{code}", {"name": "Nel", "organisation": "Oost", "stakeholder_group": "education",
                                        **without(extra, "name")}).status_code == 303
    joined = newest(db, "participants")
    assert (joined["workshop_id"], joined["on_behalf"], joined["name"]) == (workshop["id"], 0, "Nel")
    assert joined["rejoin_code"] != "HACKED99" and joined["id"] != 999999
    # An item of one's own (its kind is a field of the form, refused outside the step): not hidden, not adopted, of the step's kind, by oneself.
    assert person.post(f"/w/{code}/items", {"title": "Mine", **without(extra, "kind")}).status_code == 303
    item = newest(db, "items")
    assert (item["workshop_id"], item["kind"], item["hidden"], item["adopted"], item["on_behalf"],
            item["added_by"], item["merged_into"], item["catalogue_id"]) == (
        workshop["id"], "driver", 0, 0, 0, person.participant_id, None, None)
    # A comment: by oneself, shown, on the item in the address.
    assert person.post(f"/w/{code}/items/{item['id']}/comments", {"body": "Yes", **extra}).status_code == 303
    said = newest(db, "comments")
    assert (said["workshop_id"], said["item_id"], said["participant_id"], said["hidden"]) == (
        workshop["id"], item["id"], person.participant_id, 0)
    # Dots: one's own, never someone else's.
    assert person.post(f"/w/{code}/items/{item['id']}/dots", {"dots": "1", **extra}).status_code == 303
    assert [(v["participant_id"], v["dots"]) for v in db["votes"].rows] == [(person.participant_id, 1)]
    assert person.post(f"/w/{code}/done", {"done": "1", **extra}).status_code == 303
    assert [(d["participant_id"], d["step"]) for d in db["step_done"].rows] == [(person.participant_id, "drivers")]

    workshop = at_step(db, workshop, "actions")
    # Proposing an action: planned, version 1, no progress, by oneself.
    assert person.post(f"/w/{code}/actions", {"recommendation_id": room["recommendation"]["id"], "what": "Ours",
                                              **without(extra, "recommendation_id")}).status_code == 303
    proposed = newest(db, "actions")
    plain = actions.get(db, workshop, room["action"]["id"])
    assert (proposed["workshop_id"], proposed["proposed_by"], proposed["version"], proposed["status"],
            proposed["progress"]) == (workshop["id"], person.participant_id, 1, plain["status"], plain["progress"])
    # Editing: status and progress are the facilitator's follow-up, not the room's.
    current = actions.get(db, workshop, proposed["id"])
    form = {"recommendation_id": room["recommendation"]["id"], "what": "Ours, reworded",
            "version": current["version"]}
    assert person.post(f"/w/{code}/actions/{proposed['id']}/edit",
                       {**without(extra, "version"), **form}).status_code == 303
    edited = actions.get(db, workshop, proposed["id"])
    assert edited["what"] == "Ours, reworded"
    assert (edited["status"], edited["progress"], edited["workshop_id"], edited["proposed_by"]) == (
        current["status"], current["progress"], current["workshop_id"], current["proposed_by"])
    # Rating and volunteering: as oneself.
    assert person.post(f"/w/{code}/actions/{proposed['id']}/rating",
                       {"impact": "4", "effort": "2", **extra}).status_code == 303
    assert [(r["participant_id"], r["action_id"]) for r in db["action_ratings"].rows] == [
        (person.participant_id, proposed["id"])]
    assert person.post(f"/w/{code}/actions/{proposed['id']}/volunteer", {"role": "lead", **extra}).status_code == 303
    assert [(v["participant_id"], v["role"]) for v in db["action_volunteers"].rows] == [(person.participant_id, "lead")]
    # A text of the agenda: only its body, in this workshop.
    assert person.post(f"/w/{code}/texts/vision", {"body": "Ours", **without(extra, "version"),
                                                   "version": "0"}).status_code == 303
    assert {(t["workshop_id"], t["key"], t["body"]) for t in db["agenda_texts"].rows} == {(workshop["id"], "vision", "Ours")}
    assert texts.all_texts(db, room["elsewhere"])["vision"]["body"] == ""
    # Nothing reached the other workshop.
    assert workshops.get(db, room["elsewhere"]["id"]) == room["elsewhere"]
    assert db.execute("SELECT count(*) FROM participants WHERE workshop_id = ?",
                      [room["elsewhere"]["id"]]).fetchone()[0] == 0


def test_facilitator_forms_take_only_their_own_fields(db, facilitator, room):
    workshop, extra = room["workshop"], room["extra"]
    code = workshop["code"]
    mine = facilitator.account["id"]
    own = without(extra, *WORKSHOP_FORM, "anonymous")
    # A new workshop: one's own, at its first step, open, with a code of its own.
    response = facilitator.post("/facilitator/workshops/new", {**WORKSHOP_FORM, **own})
    assert response.status_code == 303
    created = newest(db, "workshops")
    assert (created["facilitator_id"], created["step"], created["closed_at"], created["joining_closed"]) == (
        mine, "welcome", None, 0)
    assert created["code"] != "HACKED" and created["id"] != 999999
    # Editing the details changes the details only.
    before = workshops.get(db, workshop["id"])
    assert facilitator.post(f"/facilitator/workshops/{code}/edit",
                            {**WORKSHOP_FORM, "title": "Renamed", **own}).status_code == 303
    after = workshops.get(db, workshop["id"])
    for kept in ("id", "code", "facilitator_id", "step", "closed_at", "joining_closed", "created_at"):
        assert after[kept] == before[kept], kept
    assert after["title"] == "Renamed"
    # Someone without a device: added on their behalf, in this workshop.
    assert facilitator.post(f"/facilitator/workshops/{code}/participants",
                            {"name": "Gert", "organisation": "Gemeente", "stakeholder_group": "government",
                             **own}).status_code == 303
    added = newest(db, "participants")
    assert (added["workshop_id"], added["on_behalf"], added["rejoin_code"] != "HACKED99") == (workshop["id"], 1, True)
    # A regional item: of the step's kind, not hidden or adopted by the way.
    assert facilitator.post(f"/facilitator/workshops/{code}/items",
                            {"title": "Regional", **without(own, "step", "kind"), "step": "drivers"}).status_code == 303
    item = newest(db, "items")
    assert (item["workshop_id"], item["kind"], item["hidden"], item["adopted"], item["merged_into"]) == (
        workshop["id"], "driver", 0, 0, None)
    # Rewording an item changes its words only.
    assert facilitator.post(f"/facilitator/workshops/{code}/items/{item['id']}/edit",
                            {"title": "Reworded", "explanation": "", **own}).status_code == 303
    reworded = workshops.item(db, workshop, item["id"], include_hidden=True)
    assert (reworded["title"], reworded["kind"], reworded["hidden"], reworded["adopted"]) == ("Reworded", "driver", 0, 0)
    # Follow-up records status and progress; the action's words stay as they are.
    made = actions.get(db, workshop, room["action"]["id"])
    assert facilitator.post(f"/facilitator/workshops/{code}/actions/{made['id']}/progress",
                            {**without(own, "status", "progress", "version"), "what": "Changed behind the form",
                             "status": "started", "progress": "Begun", "version": made["version"]}).status_code == 303
    followed = actions.get(db, workshop, made["id"])
    assert (followed["what"], followed["status"], followed["progress"]) == ("Plain", "started", "Begun")
    assert workshops.get(db, room["elsewhere"]["id"]) == room["elsewhere"]
