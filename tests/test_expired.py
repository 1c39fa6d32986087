"""An expired page or login during a long workshop says to reload, and never loses what was typed."""
import html
import re

import pytest
from conftest import WORKSHOP_FORM, at_step, join

from toolkit import vote
from toolkit import workshop as workshops

RELOAD = "This page has expired. Please reload it and try again"
LOGIN = "Your login has ended. Please log in again in another tab"


def english(browser):
    browser.post("/language", {"lang": "en"})
    return browser


def typed_on(page: str) -> dict:
    """The read-only textareas of an expired page, by label."""
    labels = dict(re.findall(r'<label for="(typed-\d+)">([^<]*)</label>', page))
    values = dict(re.findall(r'<textarea id="(typed-\d+)" readonly[^>]*>([^<]*)</textarea>', page))
    return {html.unescape(labels[key]): html.unescape(values[key]) for key in labels}


@pytest.fixture
def room(app, db, workshop):
    workshop = at_step(db, workshop, "drivers")
    return workshop, english(join(app, workshop)), workshops.items(db, workshop, kinds=("driver",))[0]


def test_htmx_with_an_expired_token_goes_to_messages_and_saves_nothing(db, room):
    workshop, browser, driver = room
    for url, data in ((f"/w/{workshop['code']}/items/{driver['id']}/dots", {"dots": "2"}),
                      (f"/w/{workshop['code']}/items/{driver['id']}/comments", {"body": "Half a thought"})):
        response = browser.post(url, {**data, "csrf_token": "expired"}, htmx=True)
        assert response.status_code == 400
        assert response.headers["HX-Retarget"] == "#messages"
        assert response.headers["HX-Reswap"] == "innerHTML"
        assert RELOAD in response.get_data(as_text=True)
    assert vote.tallies(db, workshop) == {} and db["comments"].count == 0


def test_a_form_with_an_expired_token_shows_what_was_typed(db, room):
    workshop, browser, _driver = room
    came_from = f"http://localhost/w/{workshop['code']}?step=drivers"
    response = browser.post(f"/w/{workshop['code']}/items",
                            {"csrf_token": "expired", "request_token": "tok-123", "title": "Skills <b>gap</b>",
                             "explanation": "Line one\nline two"}, headers={"Referer": came_from})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert RELOAD in page
    assert typed_on(page) == {"Title": "Skills <b>gap</b>", "Explanation (optional)": "Line one\nline two"}
    assert "tok-123" not in page and "<b>gap" not in page
    assert f'href="/w/{workshop["code"]}?step=drivers"' in page
    assert db["items"].count == len(workshops.items(db, workshop, include_hidden=True))


@pytest.mark.parametrize("referrer", ["https://evil.example/w/X", "//evil.example/x", "javascript:alert(1)", ""])
def test_the_way_back_is_only_ever_local(room, referrer):
    workshop, browser, _driver = room
    response = browser.post(f"/w/{workshop['code']}/items", {"csrf_token": "expired", "title": "T"},
                            headers={"Referer": referrer} if referrer else {})
    page = response.get_data(as_text=True)
    assert "evil" not in page and "javascript:" not in page
    assert 'href="/"' in page


def test_passwords_are_never_shown_again(app, facilitator):
    response = facilitator.post("/login", {"csrf_token": "expired", "email": "fa@example.org",
                                           "password": "secret words"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "secret words" not in page and "fa@example.org" in page


def test_an_ended_login_keeps_what_the_facilitator_typed(facilitator, db, workshop):
    english(facilitator)
    with facilitator.client.session_transaction() as session:
        del session["login"]
    before = db["workshops"].count
    response = facilitator.post("/facilitator/workshops/new", {**WORKSHOP_FORM, "title": "Plan for Zeeland"},
                                headers={"Referer": "http://localhost/facilitator/workshops/new"})
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert LOGIN in page
    assert typed_on(page)["Title"] == "Plan for Zeeland"
    assert re.search(r'<a href="/login" target="_blank" rel="noopener">', page)
    assert 'href="/facilitator/workshops/new"' in page
    assert db["workshops"].count == before


def test_an_ended_login_tells_htmx_and_polls_to_log_in_elsewhere(facilitator, workshop):
    english(facilitator)
    with facilitator.client.session_transaction() as session:
        del session["login"]
    for response in (facilitator.client.get(f"/facilitator/workshops/{workshop['code']}/live?rev=0",
                                            headers={"HX-Request": "true"}),
                     facilitator.post(f"/facilitator/workshops/{workshop['code']}/actions", {"what": "x"}, htmx=True)):
        assert response.status_code == 401
        assert response.headers["HX-Retarget"] == "#messages"
        assert LOGIN in response.get_data(as_text=True)


def test_an_ended_login_still_sends_a_plain_page_visit_to_log_in(facilitator, workshop):
    with facilitator.client.session_transaction() as session:
        del session["login"]
    response = facilitator.get(f"/facilitator/workshops/{workshop['code']}")
    assert response.status_code == 302 and "/login" in response.location


def test_a_poll_without_a_session_says_to_reload(app, db, room):
    workshop, browser, _driver = room
    stranger = english(join(app, workshop, name="Kim"))
    with stranger.client.session_transaction() as session:
        session.pop("participants")
    response = stranger.client.get(f"/w/{workshop['code']}/live?rev=0&step=drivers", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Retarget"] == "#messages"
    assert RELOAD in response.get_data(as_text=True)
