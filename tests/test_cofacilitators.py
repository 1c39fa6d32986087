"""Several facilitators: each sees only their own workshops; the owner invites co-facilitators."""
import re

from conftest import PASSWORD, WORKSHOP_FORM, Visitor, make_facilitator
from toolkit import audit, cofacilitator
from toolkit import workshop as workshops


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
