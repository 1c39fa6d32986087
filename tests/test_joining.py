"""Joining safely: unguessable codes, throttled attempts, closing joining and removing a participant."""
import math
import re

import pytest
from conftest import Visitor, at_step, join, person
from toolkit import audit, participant
from toolkit import workshop as workshops


def test_join_codes_cannot_be_guessed_in_practice(db, workshop):
    codes = {workshops.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(code) == workshops.CODE_LENGTH for code in codes)
    # No look-alikes that a projector or a handwritten note would confuse.
    assert not set("".join(codes)) & set("01IOL")
    assert math.log2(len(workshops.CODE_ALPHABET)) * workshops.CODE_LENGTH >= 44
    assert len(workshop["code"]) == workshops.CODE_LENGTH


def test_a_code_typed_in_groups_with_any_case_finds_the_workshop(visitor, workshop):
    typed = workshops.spaced_code(workshop["code"]).lower().replace(" ", " - ", 1)
    response = visitor.post("/join", {"code": typed})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/j/{workshop['code']}")


def test_wrong_codes_are_throttled_per_client_and_the_wait_hides_the_answer(app, visitor, workshop):
    for number in range(participant.JOIN_FAILURES_PER_CLIENT):
        assert visitor.post("/join", {"code": f"XXXX{number:05d}"}).status_code == 404
    # The right code now gets the same answer as a wrong one: a guesser cannot tell.
    right = visitor.post("/join", {"code": workshop["code"]})
    wrong = visitor.get("/j/ABCABCABC")
    assert right.status_code == wrong.status_code == 429
    assert int(right.headers["Retry-After"]) > 0
    assert "minutes" in right.get_data(as_text=True) or "minuten" in right.get_data(as_text=True)
    # Another client is not held up, and people already in the room carry on.
    assert Visitor(app.test_client()).get(f"/j/{workshop['code']}", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 200


def test_people_already_in_the_room_are_never_throttled(app, db, workshop):
    inside = join(app, workshop)
    for number in range(participant.JOIN_FAILURES_PER_CLIENT):
        inside.post("/join", {"code": f"XXXX{number:05d}"})
    assert inside.get(f"/w/{workshop['code']}").status_code == 200
    assert inside.get(f"/w/{workshop['code']}/live?rev=-1&step=welcome").status_code == 200


def test_wrong_personal_codes_count_as_failed_attempts(app, visitor, workshop):
    for _ in range(participant.JOIN_FAILURES_PER_CLIENT):
        visitor.post(f"/j/{workshop['code']}/rejoin", {"rejoin_code": "WRONGCODE2"})
    assert visitor.get(f"/r/{workshop['code']}/WRONGCODE2").status_code == 429


def test_closing_joining_stops_newcomers_but_not_the_room(app, db, facilitator, workshop):
    inside = join(app, workshop)
    assert facilitator.post(f"/facilitator/workshops/{workshop['code']}/joining", {"closed": "1"}).status_code == 303
    newcomer = Visitor(app.test_client())
    page = newcomer.get(f"/j/{workshop['code']}").get_data(as_text=True)
    assert 'name="organisation"' not in page
    response = newcomer.post(f"/j/{workshop['code']}", {"name": "Late", "organisation": "Late BV",
                                                       "stakeholder_group": "companies"})
    assert response.status_code == 422
    assert len(participant.in_room(db, workshop)) == 1
    assert inside.get(f"/w/{workshop['code']}").status_code == 200
    me = participant.in_room(db, workshop)[0]
    # Continuing on another device is not joining: the personal code still works.
    assert Visitor(app.test_client()).get(f"/r/{workshop['code']}/{me['rejoin_code']}").status_code == 303
    # The facilitator can still add someone without a device.
    participant.join(db, workshops.get(db, workshop["id"]),
                     {"name": "Offline", "organisation": "O", "stakeholder_group": "other"}, on_behalf=True)
    facilitator.post(f"/facilitator/workshops/{workshop['code']}/joining", {"closed": "0"})
    response = newcomer.post(f"/j/{workshop['code']}", {"name": "Late", "organisation": "Late BV",
                                                       "stakeholder_group": "companies"})
    assert response.status_code == 303
    events = [entry["event"] for entry in audit.entries(db, workshop)]
    assert "joining_closed" in events and "joining_opened" in events


def test_a_removed_participant_loses_their_votes_and_their_session(app, db, facilitator, workshop):
    at_step(db, workshop, "drivers")
    removed, stays = join(app, workshop, name="Troll"), join(app, workshop, name="Kim")
    item = workshops.items(db, workshop, ("driver",))[0]
    for browser in (removed, stays):
        assert browser.post(f"/w/{workshop['code']}/items/{item['id']}/dots", {"dots": "2"}).status_code == 303
    troll = next(p for p in participant.in_room(db, workshop) if p["name"] == "Troll")
    removed.post(f"/w/{workshop['code']}/items/{item['id']}/comments", {"body": "spam", "request_token": "t1"})
    confirm = facilitator.get(f"/facilitator/workshops/{workshop['code']}/participants/{troll['id']}/remove")
    assert confirm.status_code == 200 and "Troll" in confirm.get_data(as_text=True)
    assert facilitator.post(f"/facilitator/workshops/{workshop['code']}/participants/{troll['id']}/remove").status_code == 303
    assert [p["name"] for p in participant.in_room(db, workshop)] == ["Kim"]
    assert db.execute("SELECT count(*) FROM votes").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM comments").fetchone()[0] == 0
    # Their browser no longer works: pages send them to the join page, writes are refused.
    page = removed.get(f"/w/{workshop['code']}")
    assert page.status_code == 303 and page.headers["Location"].endswith(f"/j/{workshop['code']}")
    assert removed.post(f"/w/{workshop['code']}/items/{item['id']}/dots", {"dots": "1"}).status_code == 404
    live = removed.get(f"/w/{workshop['code']}/live?rev=0&step=drivers", headers={"HX-Request": "true"})
    assert live.headers["HX-Redirect"].endswith(f"/j/{workshop['code']}")
    assert "participant_removed" in [entry["event"] for entry in audit.entries(db, workshop)]


def test_a_removed_participants_browser_never_becomes_the_next_to_join(app, db, facilitator, workshop):
    """SQLite gives the highest deleted id to the next row; the session key keeps them apart."""
    removed = join(app, workshop, name="First")
    first = participant.in_room(db, workshop)[0]
    participant.remove(db, workshop, first["id"])
    join(app, workshop, name="Second")
    second = participant.in_room(db, workshop)[0]
    assert second["id"] == first["id"]  # the id was indeed given again
    assert removed.get(f"/w/{workshop['code']}").status_code == 303


def test_a_browser_from_before_session_keys_is_bound_on_its_next_visit(app, db, workshop):
    pat = person(db, workshop)
    browser = Visitor(app.test_client())
    with browser.client.session_transaction() as session:
        session["participants"] = {str(workshop["id"]): pat["id"]}
    assert browser.get(f"/w/{workshop['code']}").status_code == 200
    with browser.client.session_transaction() as session:
        bound_id, key = session["participants"][str(workshop["id"])]
    assert bound_id == pat["id"] and key == participant.get(db, workshop, pat["id"])["session_key"]


def test_a_forged_session_key_opens_nothing(app, db, workshop):
    pat = person(db, workshop)
    participant.session_key(db, pat)
    browser = Visitor(app.test_client())
    with browser.client.session_transaction() as session:
        session["participants"] = {str(workshop["id"]): [pat["id"], "guessed"]}
    assert browser.get(f"/w/{workshop['code']}").status_code == 303


def test_joins_are_in_the_audit_log(app, db, workshop):
    join(app, workshop, name="Ann")
    entry = audit.entries(db, workshop)[0]
    assert entry["event"] == "joined" and entry["subject"] == "Acme" and entry["detail"]["name"] == "Ann"
    assert entry["actor_kind"] == "system"


def test_a_flood_of_joins_from_one_client_is_throttled(app, db, workshop, monkeypatch):
    monkeypatch.setattr(participant, "JOINS_PER_CLIENT", 3)
    browser = Visitor(app.test_client())
    for number in range(3):
        response = browser.post(f"/j/{workshop['code']}", {"name": f"P{number}", "organisation": "X",
                                                          "stakeholder_group": "other"})
        assert response.status_code == 303
        browser.client.delete_cookie("session")
        browser._token = None
    response = browser.post(f"/j/{workshop['code']}", {"name": "P9", "organisation": "X",
                                                      "stakeholder_group": "other"})
    assert response.status_code == 429
    assert re.search(r"\d+", response.headers["Retry-After"])


def test_a_removed_participants_name_goes_when_the_workshop_is_anonymised(app, db, facilitator, workshop):
    from toolkit import privacy

    join(app, workshop, name="Troll", organisation="Trollhuis")
    troll = participant.in_room(db, workshop)[0]
    participant.remove(db, workshop, troll["id"])
    removed = audit.entries(db, workshop)[0]
    assert removed["subject"] == "Trollhuis" and removed["detail"]["name"] == "Troll"
    privacy.anonymise(db, workshops.get(db, workshop["id"]))
    dump = "\n".join(str(row) for row in db.query("SELECT * FROM audit"))
    assert "Troll" not in dump.replace("Trollhuis", "")
    assert "Trollhuis" in dump  # the organisation stays, as it does in the results


def test_wrong_codes_are_counted_across_server_processes(app, workshop):
    """Two apps on one database stand for two workers: failures at either count for both."""
    from toolkit import create_app

    other = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE": app.config["DATABASE"]})
    for number in range(participant.JOIN_FAILURES_PER_CLIENT):
        worker = app if number % 2 else other
        assert Visitor(worker.test_client()).get(f"/j/WRONG{number:04d}").status_code == 404
    assert Visitor(other.test_client()).get(f"/j/{workshop['code']}").status_code == 429
    assert Visitor(app.test_client()).get(f"/j/{workshop['code']}").status_code == 429


def _room_rows(db) -> dict:
    """Everything the room can write, table by table."""
    return {table: sorted(map(repr, db.query(f"SELECT * FROM {table}"))) for table in (
        "votes", "items", "comments", "actions", "action_volunteers", "action_ratings", "agenda_texts",
        "step_done", "edits")}


@pytest.mark.parametrize("step", ["drivers", "actions"])
def test_a_closed_workshop_takes_no_write_from_the_room_through_any_route(app, db, facilitator, workshop, step):
    from toolkit import action

    recommendation = workshops.items(db, workshop, kinds=("recommendation",))[0]
    workshops.set_adopted(db, workshop, recommendation["id"], True)
    at_step(db, workshop, "actions")
    anna = join(app, workshop, name="Anna")
    made = action.propose(db, workshop, {"recommendation_id": recommendation["id"], "what": "Leerrecht",
                                         "lead": "FNV"}, participant_id=anna.participant_id)
    at_step(db, workshop, step)
    item = workshops.items(db, workshop, ("driver",))[0]
    workshops.set_closed(db, workshop, True)
    before = _room_rows(db)
    code = workshop["code"]
    for url, form in [
        (f"/w/{code}/items/{item['id']}/dots", {"dots": "1"}),
        (f"/w/{code}/items", {"title": "Late", "request_token": "late"}),
        (f"/w/{code}/items/{item['id']}/comments", {"body": "Late", "request_token": "late-c"}),
        (f"/w/{code}/done", {"done": "1"}),
        (f"/w/{code}/actions", {"recommendation_id": recommendation["id"], "what": "Late", "lead": "X",
                                "request_token": "late-a"}),
        (f"/w/{code}/actions/{made['id']}/edit", {"what": "Changed", "lead": "FNV", "version": "1",
                                                  "recommendation_id": recommendation["id"]}),
        (f"/w/{code}/actions/{made['id']}/volunteer", {"role": "lead"}),
        (f"/w/{code}/actions/{made['id']}/rating", {"impact": "3", "effort": "3"}),
        (f"/w/{code}/texts/vision", {"body": "Late", "version": "0"}),
    ]:
        for htmx in (False, True):
            response = anna.post(url, form, htmx=htmx)
            assert 400 <= response.status_code < 500 or response.status_code == 303, url
    assert _room_rows(db) == before
