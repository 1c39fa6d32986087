"""The facilitator's pages over HTTP, and every access rule around them."""
import io

import pytest
from conftest import PASSWORD, TOKEN, WORKSHOP_FORM, Visitor, join, make_facilitator
from docx import Document

from toolkit import agenda, vote
from toolkit import facilitator as facilitators
from toolkit import workshop as workshops


def _without_tokens(page: str) -> str:
    """page without its CSRF tokens, which carry a timestamp."""
    for token in set(TOKEN.findall(page)):
        page = page.replace(token, "")
    return page


def test_setup_link_creates_the_first_account_once(app, db, visitor):
    token = facilitators.new_setup_token(db)
    assert visitor.get(f"/setup/{token}").status_code == 200
    assert visitor.get("/setup/wrong-token").status_code == 404
    response = visitor.post(f"/setup/{token}", {"name": "Anna", "email": "anna@example.org",
                                                "password": "long enough password"})
    assert response.status_code == 303
    assert visitor.get("/facilitator/").status_code == 200  # logged in straight away
    assert Visitor(app.test_client()).get(f"/setup/{token}").status_code == 404  # used up


def test_setup_refuses_a_short_password_and_keeps_the_rest(db, visitor):
    token = facilitators.new_setup_token(db)
    response = visitor.post(f"/setup/{token}", {"name": "Anna", "email": "anna@example.org",
                                                "password": "short"})
    assert response.status_code == 422
    assert 'value="anna@example.org"' in response.get_data(as_text=True)
    assert not facilitators.any_exist(db)


def test_login_failure_says_the_same_for_unknown_and_wrong(db, visitor):
    make_facilitator(db)
    wrong = visitor.post("/login", {"email": "fa@example.org", "password": "nope"})
    unknown = visitor.post("/login", {"email": "nobody@example.org", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    # The same page but for the address typed and the CSRF token's timestamp.
    def page(response):
        return _without_tokens(response.get_data(as_text=True)).replace("nobody@", "fa@")

    assert page(wrong) == page(unknown)


def test_pages_need_a_login(visitor, workshop):
    for url in ("/facilitator/", "/facilitator/workshops/new", f"/facilitator/workshops/{workshop['code']}"):
        response = visitor.get(url)
        assert response.status_code == 302 and "/login" in response.location


def test_logout(facilitator):
    assert facilitator.post("/logout").status_code == 303
    assert facilitator.get("/facilitator/").status_code == 302


def test_create_workshop_and_see_its_join_code(facilitator, db):
    response = facilitator.post("/facilitator/workshops/new", {**WORKSHOP_FORM, "title": "Agenda <Twente>"})
    assert response.status_code == 303
    code = response.location.rsplit("/", 1)[1]
    page = facilitator.get(f"/facilitator/workshops/{code}").get_data(as_text=True)
    assert code in page and f"/j/{code}" in page
    assert "Agenda &lt;Twente&gt;" in page
    stored = workshops.by_code(db, code)
    assert (stored["language"], stored["dots"], stored["anonymous"]) == ("nl", 5, 0)


@pytest.mark.parametrize("field,value", [
    ("title", ""), ("dots", "0"), ("dots", "21"), ("dots", "five"), ("language", "fr"),
    ("date", "1 december"), ("region", "x" * 121),
])
def test_create_workshop_refuses_bad_values(facilitator, db, field, value):
    response = facilitator.post("/facilitator/workshops/new", {**WORKSHOP_FORM, field: value})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert list(db.query("SELECT * FROM workshops")) == []


def test_move_the_room_through_the_steps(facilitator, db, workshop):
    url = f"/facilitator/workshops/{workshop['code']}/step"
    for step in workshops.STEP_KEYS:
        assert facilitator.post(url, {"step": step}).status_code == 303
        assert workshops.get(db, workshop["id"])["step"] == step
    assert facilitator.post(url, {"step": "coffee"}).status_code == 422
    assert workshops.get(db, workshop["id"])["step"] == "review"


def test_results_per_stakeholder_group_and_adoption(app, facilitator, db, workshop):
    workshops.set_step(db, workshop["id"], "drivers")
    workshop = workshops.get(db, workshop["id"])
    driver = workshops.items(db, workshop, kinds=("driver",))[0]
    for group, dots in (("companies", 2), ("education", 3), ("education", 1)):
        person = join(app, workshop, group=group)
        person.post(f"/w/{workshop['code']}/items/{driver['id']}/dots", {"dots": dots})
    tally = vote.tallies(db, workshop)[driver["id"]]
    assert (tally["total"], tally["voters"], tally["by_group"]["education"]) == (6, 3, 4)
    page = facilitator.get(f"/facilitator/workshops/{workshop['code']}").get_data(as_text=True)
    row = page[page.index(f'id="item-{driver["id"]}"'):]
    row = row[:row.index("</tr>")]
    assert [cell for cell in ("<td>2</td>", "<td>4</td>", "<strong>6</strong>", "<td>3</td>") if cell not in row] == []

    response = facilitator.post(f"/facilitator/workshops/{workshop['code']}/items/{driver['id']}/adopted",
                                {"adopted": "1"}, htmx=True)
    assert response.status_code == 200
    assert response.get_data(as_text=True).lstrip().startswith('<div id="results"')
    assert workshops.item(db, workshop, driver["id"])["adopted"]


def test_hide_an_item_and_add_a_regional_one(app, facilitator, db, workshop):
    workshops.set_step(db, workshop["id"], "drivers")
    driver = workshops.items(db, workshop, kinds=("driver",))[0]
    facilitator.post(f"/facilitator/workshops/{workshop['code']}/items/{driver['id']}/hidden", {"hidden": "1"})
    facilitator.post(f"/facilitator/workshops/{workshop['code']}/items",
                     {"step": "drivers", "kind": "driver", "title": "Krapte op de arbeidsmarkt"})
    participant_page = join(app, workshop).get(f"/w/{workshop['code']}").get_data(as_text=True)
    assert driver["title"] not in participant_page
    assert "Krapte op de arbeidsmarkt" in participant_page


def test_export_keeps_numbered_drafts(facilitator, db, workshop):
    url = f"/facilitator/workshops/{workshop['code']}/drafts"
    first = facilitator.post(url)
    second = facilitator.post(url)
    assert first.location.endswith("?step=review#drafts-heading")
    page = facilitator.get(second.location).get_data(as_text=True)
    assert "Concept 2 is klaar om te downloaden." in page and "/drafts/2.docx" in page
    for version in (1, 2):
        response = facilitator.get(f"{url}/{version}.docx")
        assert response.status_code == 200
        assert f"agenda-{workshop['code']}-v{version}.docx" in response.headers["Content-Disposition"]
        text = "\n".join(p.text for p in Document(io.BytesIO(response.data)).paragraphs)
        assert workshop["title"] in text
    assert [d["version"] for d in agenda.drafts(db, workshop)] == [2, 1]
    assert facilitator.get(f"{url}/3.docx").status_code == 404


class TestAccess:
    """Nobody reaches another's workshop; participants never reach facilitator actions."""

    def test_another_facilitators_workshop_looks_missing(self, app, db, workshop):
        other = make_facilitator(db, email="other@example.org")
        browser = Visitor(app.test_client())
        browser.post("/login", {"email": other["email"], "password": PASSWORD})
        browser._token = None
        code = workshop["code"]
        missing = browser.get("/facilitator/workshops/ZZZZZZ")
        foreign = browser.get(f"/facilitator/workshops/{code}")
        assert foreign.status_code == missing.status_code == 404
        # Identical but for the address the visitor typed, which the page echoes in its forms.
        assert (_without_tokens(foreign.get_data(as_text=True)).replace(code, "ZZZZZZ")
                == _without_tokens(missing.get_data(as_text=True)))
        driver = workshops.items(db, workshop, kinds=("driver",))[0]
        for url in (f"/facilitator/workshops/{code}/step", f"/facilitator/workshops/{code}/drafts",
                    f"/facilitator/workshops/{code}/items/{driver['id']}/adopted"):
            assert browser.post(url, {"step": "review", "adopted": "1"}).status_code == 404
        assert browser.get(f"/facilitator/workshops/{code}/drafts/1.docx").status_code == 404
        assert workshops.get(db, workshop["id"])["step"] == "welcome"
        assert not workshops.item(db, workshop, driver["id"])["adopted"]

    def test_an_item_of_another_workshop_looks_missing(self, facilitator, db, workshop):
        other = workshops.create(db, facilitator.account["id"], WORKSHOP_FORM)
        foreign = workshops.items(db, other, kinds=("driver",))[0]
        response = facilitator.post(
            f"/facilitator/workshops/{workshop['code']}/items/{foreign['id']}/adopted", {"adopted": "1"})
        assert response.status_code == 404
        assert not workshops.item(db, other, foreign["id"])["adopted"]

    def test_participants_cannot_act_as_facilitator(self, app, db, workshop):
        person = join(app, workshop)
        code = workshop["code"]
        for url in (f"/facilitator/workshops/{code}/step", f"/facilitator/workshops/{code}/drafts"):
            response = person.post(url, {"step": "review"})
            # Refused with a way to log in, keeping what was sent (see test_expired.py).
            assert response.status_code == 401 and 'href="/login"' in response.get_data(as_text=True)
        assert workshops.get(db, workshop["id"])["step"] == "welcome"

    def test_a_participant_is_bound_to_one_workshop(self, app, db, facilitator, workshop):
        other = workshops.create(db, facilitator.account["id"], WORKSHOP_FORM)
        workshops.set_step(db, other["id"], "drivers")
        other = workshops.get(db, other["id"])
        person = join(app, workshop)
        driver = workshops.items(db, other, kinds=("driver",))[0]
        assert person.get(f"/w/{other['code']}").status_code == 303  # sent to join it first
        response = person.post(f"/w/{other['code']}/items/{driver['id']}/dots", {"dots": "1"})
        assert response.status_code == 404
        assert vote.tallies(db, other) == {}

    def test_a_tampered_session_is_refused(self, app, db, workshop):
        person = join(app, workshop)
        with person.client.session_transaction() as session:
            session["participants"] = {str(workshop["id"]): 999}
        assert person.get(f"/w/{workshop['code']}").status_code == 303

    def test_every_state_change_needs_a_csrf_token(self, app, db, facilitator, workshop):
        code = workshop["code"]
        workshops.set_step(db, workshop["id"], "drivers")
        driver = workshops.items(db, workshop, kinds=("driver",))[0]
        person = join(app, workshop)
        attempts = [
            (facilitator, f"/facilitator/workshops/{code}/step", {"step": "review"}),
            (facilitator, f"/facilitator/workshops/{code}/drafts", {}),
            (facilitator, "/facilitator/workshops/new", WORKSHOP_FORM),
            (person, f"/w/{code}/items/{driver['id']}/dots", {"dots": "1"}),
            (person, f"/w/{code}/items", {"kind": "driver", "title": "x"}),
            (person, f"/j/{code}", {"name": "n", "organisation": "o", "stakeholder_group": "other"}),
            (facilitator, "/logout", {}),
        ]
        for browser, url, data in attempts:
            for htmx in (False, True):
                response = browser.post(url, data, csrf=False, htmx=htmx)
                assert response.status_code == 400, url
                assert "Ververs de pagina" in response.get_data(as_text=True)
        assert workshops.get(db, workshop["id"])["step"] == "drivers"
        assert vote.tallies(db, workshop) == {}
        assert agenda.drafts(db, workshop) == []


def test_an_expired_login_tells_htmx_to_log_in_again_and_keeps_the_page(facilitator, db, workshop):
    driver = workshops.items(db, workshop, kinds=("driver",))[0]
    with facilitator.client.session_transaction() as session:
        del session["login"]
    response = facilitator.post(f"/facilitator/workshops/{workshop['code']}/items/{driver['id']}/adopted",
                                {"adopted": "1"}, htmx=True)
    assert response.status_code == 401
    assert "HX-Redirect" not in response.headers and response.headers["HX-Retarget"] == "#messages"
    assert not workshops.item(db, workshop, driver["id"])["adopted"]


def test_a_fresh_installation_points_at_the_setup_link(visitor):
    assert "toolkit serve" in visitor.get("/login").get_data(as_text=True)


def test_the_join_link_uses_the_address_phones_can_reach(app, facilitator, workshop):
    app.config["PUBLIC_URL"] = "http://192.0.2.7:8000"
    page = facilitator.get(f"/facilitator/workshops/{workshop['code']}").get_data(as_text=True)
    assert f'href="http://192.0.2.7:8000/j/{workshop["code"]}"' in page


def test_dates_are_stored_in_one_form(facilitator, db):
    response = facilitator.post("/facilitator/workshops/new", {**WORKSHOP_FORM, "date": "20261201"})
    assert workshops.by_code(db, response.location.rsplit("/", 1)[1])["date"] == "2026-12-01"


def test_every_response_carries_the_security_headers(visitor, facilitator, workshop):
    for response in (visitor.get("/"), visitor.get("/no-such-page"), facilitator.get("/facilitator/"),
                     visitor.post("/join", {"code": "x"}, csrf=False)):
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
