"""Several facilitators: each sees only their own workshops; the owner invites co-facilitators."""
import re

import pytest
from conftest import PASSWORD, WORKSHOP_FORM, Visitor, make_facilitator
from toolkit import audit, cofacilitator, participant
from toolkit import workshop as workshops
from toolkit.validation import NotFound


def _logged_in(app, account):
    browser = Visitor(app.test_client())
    assert browser.post("/login", {"email": account["email"], "password": PASSWORD}).status_code == 303
    browser._token = None
    return browser


def test_a_facilitator_sees_only_their_own_workshops(app, db, facilitator, workshop):
    other = make_facilitator(db, "other@example.org", "Other")
    theirs = workshops.create(db, other["id"], {**WORKSHOP_FORM, "title": "Their own workshop"})
    dashboard = facilitator.get("/facilitator/").get_data(as_text=True)
    assert workshop["title"] in dashboard and "Their own workshop" not in dashboard
    missing = facilitator.get("/facilitator/workshops/ZZZZZZZZZ")
    foreign = facilitator.get(f"/facilitator/workshops/{theirs['code']}")
    assert foreign.status_code == missing.status_code == 404
    # The pages differ only in the address they were asked for (the language form returns there).
    assert foreign.get_data(as_text=True).replace(theirs["code"], "ZZZZZZZZZ") == missing.get_data(as_text=True)


def test_inviting_an_existing_account_lets_it_run_the_workshop(app, db, facilitator, workshop):
    colleague = make_facilitator(db, "colleague@example.org", "Colleague")
    response = facilitator.post(f"/facilitator/workshops/{workshop['code']}/team", {"email": "Colleague@example.org"})
    assert response.status_code == 303
    browser = _logged_in(app, colleague)
    assert workshop["title"] in browser.get("/facilitator/").get_data(as_text=True)
    assert browser.get(f"/facilitator/workshops/{workshop['code']}").status_code == 200
    assert browser.post(f"/facilitator/workshops/{workshop['code']}/step", {"step": "drivers"}).status_code == 303
    assert workshops.get(db, workshop["id"])["step"] == "drivers"
    events = [entry["event"] for entry in audit.entries(db, workshop)]
    assert "cofacilitator_added" in events


def test_a_co_facilitator_cannot_invite_or_remove_others(app, db, facilitator, workshop):
    colleague = make_facilitator(db, "colleague@example.org", "Colleague")
    cofacilitator.invite(db, workshop, colleague["email"], facilitator.account)
    browser = _logged_in(app, colleague)
    page = browser.get(f"/facilitator/workshops/{workshop['code']}/team").get_data(as_text=True)
    assert "Invite a co-facilitator" not in page and "Nodig een co-facilitator uit" not in page
    assert browser.post(f"/facilitator/workshops/{workshop['code']}/team",
                        {"email": "third@example.org"}).status_code == 404
    owner_id = facilitator.account["id"]
    assert browser.post(f"/facilitator/workshops/{workshop['code']}/team/{owner_id}/remove").status_code == 404
    assert len(cofacilitator.team(db, workshop)) == 2


def test_an_invitation_link_creates_an_account_and_works_once(app, db, facilitator, workshop):
    page = facilitator.post(f"/facilitator/workshops/{workshop['code']}/team",
                            {"email": "new@example.org"}).get_data(as_text=True)
    link = re.search(r'id="invitation-link" readonly value="http://localhost(/invite/[^"]+)"', page).group(1)
    newcomer = Visitor(app.test_client())
    form = newcomer.get(link)
    assert form.status_code == 200 and "new@example.org" in form.get_data(as_text=True)
    response = newcomer.post(link, {"name": "Newcomer", "password": "a long enough password"})
    assert response.status_code == 303
    newcomer._token = None
    assert newcomer.get(f"/facilitator/workshops/{workshop['code']}").status_code == 200
    assert Visitor(app.test_client()).get(link).status_code == 404
    assert [member["email"] for member in cofacilitator.team(db, workshop)] == [
        facilitator.account["email"], "new@example.org"]


def test_a_logged_in_facilitator_accepts_an_invitation(app, db, facilitator, workshop):
    token = cofacilitator.invite(db, workshop, "later@example.org", facilitator.account)
    later = make_facilitator(db, "later@example.org", "Later")
    browser = _logged_in(app, later)
    assert "Later" in browser.get(f"/invite/{token}").get_data(as_text=True)
    assert browser.post(f"/invite/{token}").status_code == 303
    assert browser.get(f"/facilitator/workshops/{workshop['code']}").status_code == 200


def test_an_expired_or_made_up_invitation_is_refused(app, db, facilitator, workshop):
    token = cofacilitator.invite(db, workshop, "late@example.org", facilitator.account)
    db.execute("UPDATE invitations SET expires_at = '2000-01-01T00:00:00+00:00'")
    db.conn.commit()
    visitor = Visitor(app.test_client())
    assert visitor.get(f"/invite/{token}").status_code == 404
    assert visitor.post(f"/invite/{token}", {"name": "X", "password": "a long enough password"}).status_code == 404
    assert visitor.get("/invite/made-up").status_code == 404


def test_the_owner_removes_a_co_facilitator(app, db, facilitator, workshop):
    colleague = make_facilitator(db, "colleague@example.org", "Colleague")
    cofacilitator.invite(db, workshop, colleague["email"], facilitator.account)
    browser = _logged_in(app, colleague)
    assert facilitator.post(f"/facilitator/workshops/{workshop['code']}/team/{colleague['id']}/remove").status_code == 303
    assert browser.get(f"/facilitator/workshops/{workshop['code']}").status_code == 404
    assert workshop["title"] not in browser.get("/facilitator/").get_data(as_text=True)


def test_inviting_twice_or_a_bad_address_says_why(app, db, facilitator, workshop):
    colleague = make_facilitator(db, "colleague@example.org", "Colleague")
    cofacilitator.invite(db, workshop, colleague["email"], facilitator.account)
    for email in ("colleague@example.org", facilitator.account["email"], "not an address"):
        response = facilitator.post(f"/facilitator/workshops/{workshop['code']}/team", {"email": email})
        assert response.status_code == 422
        assert 'class="message error"' in response.get_data(as_text=True)


def test_an_invitation_is_only_for_its_address(app, db, facilitator, workshop):
    token = cofacilitator.invite(db, workshop, "meant@example.org", facilitator.account)
    stranger = _logged_in(app, make_facilitator(db, "stranger@example.org", "Stranger"))
    page = stranger.get(f"/invite/{token}").get_data(as_text=True)
    assert "meant@example.org" in page and "Accept the invitation" not in page
    assert stranger.post(f"/invite/{token}").status_code == 403
    assert stranger.get(f"/facilitator/workshops/{workshop['code']}").status_code == 404
    assert len(cofacilitator.team(db, workshop)) == 1


def test_accepting_a_second_invitation_adds_and_logs_once(app, db, facilitator, workshop):
    first, second = (cofacilitator.invite(db, workshop, "twice@example.org", facilitator.account) for _ in range(2))
    account = make_facilitator(db, "twice@example.org", "Twice")
    cofacilitator.accept(db, first, account)
    cofacilitator.accept(db, second, account)
    with pytest.raises(NotFound):
        cofacilitator.accept(db, second, account)  # each link works once
    assert len(cofacilitator.team(db, workshop)) == 2
    assert [e["event"] for e in audit.entries(db, workshop)].count("cofacilitator_added") == 1


def _offline_person_acted_for_by(app, db, browser, workshop):
    browser.post(f"/facilitator/workshops/{workshop['code']}/participants",
                 {"name": "Offline", "organisation": "Org", "stakeholder_group": "other", "request_token": "o1"})
    offline = [p for p in participant.in_room(db, workshop) if p["on_behalf"]][0]
    assert browser.post(f"/facilitator/workshops/{workshop['code']}/participants/{offline['id']}/act").status_code == 303
    return offline


def test_a_removed_co_facilitator_no_longer_acts_for_people_without_a_device(app, db, facilitator, workshop):
    workshops.set_step(db, workshop["id"], "drivers")
    colleague = make_facilitator(db, "colleague@example.org", "Colleague")
    cofacilitator.invite(db, workshop, colleague["email"], facilitator.account)
    browser = _logged_in(app, colleague)
    _offline_person_acted_for_by(app, db, browser, workshop)
    item = workshops.items(db, workshop, ("driver",))[0]
    vote_url = f"/w/{workshop['code']}/items/{item['id']}/dots"
    assert browser.post(vote_url, {"dots": "1"}).status_code == 303
    entry = audit.entries(db, workshop)[0]
    # The log names the facilitator who voted for the person, not the person alone.
    assert entry["actor_kind"] == "facilitator" and entry["actor"].startswith("Colleague")
    cofacilitator.remove(db, workshop, colleague["id"])
    assert browser.post(vote_url, {"dots": "2"}).status_code == 404
    assert browser.post(f"/w/{workshop['code']}/items", {"title": "Stray", "request_token": "s"}).status_code == 404
    assert db.execute("SELECT dots FROM votes").fetchall() == [(1,)]


def test_logging_out_ends_acting_for_people_without_a_device(app, db, facilitator, workshop):
    workshops.set_step(db, workshop["id"], "drivers")
    _offline_person_acted_for_by(app, db, facilitator, workshop)
    item = workshops.items(db, workshop, ("driver",))[0]
    facilitator.post("/logout")
    facilitator._token = None
    assert facilitator.post(f"/w/{workshop['code']}/items/{item['id']}/dots", {"dots": "1"}).status_code == 404
    assert db.execute("SELECT count(*) FROM votes").fetchone()[0] == 0
