"""A participant's way through the workshop over HTTP: join, vote, add, propose."""
import re

from conftest import WORKSHOP_FORM, Visitor, join

from toolkit import action, participant, vote
from toolkit import step as steps
from toolkit import workshop as workshops


def _step(db, workshop, step):
    workshops.set_step(db, workshop["id"], step)
    return workshops.get(db, workshop["id"])


def test_join_with_the_code_as_typed(app, visitor, workshop):
    typed = workshop["code"].lower()[:3] + " " + workshop["code"].lower()[3:]
    response = visitor.post("/join", {"code": typed})
    assert response.status_code == 303
    assert response.location.endswith(f"/j/{workshop['code']}")


def test_an_unknown_code_is_a_clear_404(visitor):
    response = visitor.post("/join", {"code": "ZZZZZZ"})
    assert response.status_code == 404
    assert "Er is geen workshop met deze code" in response.get_data(as_text=True)


def test_joining_lands_on_the_current_step(app, db, workshop):
    _step(db, workshop, "drivers")
    browser = join(app, workshop)
    page = browser.get(f"/w/{workshop['code']}").get_data(as_text=True)
    assert "Concurrerend blijven" in page
    person = participant.get(db, workshop, browser.participant_id)
    assert (person["name"], person["organisation"], person["stakeholder_group"]) == ("Pat", "Acme", "companies")


def test_join_form_errors_keep_what_was_typed(app, visitor, workshop):
    response = visitor.post(f"/j/{workshop['code']}", {"name": "Pat", "organisation": "Acme & Zonen",
                                                       "stakeholder_group": "pirates"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Kies een van de opties." in page
    assert 'value="Acme &amp; Zonen"' in page


def test_anonymous_workshops_do_not_ask_names(app, db, facilitator):
    anonymous = workshops.create(db, facilitator.account["id"], {**WORKSHOP_FORM, "anonymous": "on"})
    browser = join(app, anonymous, name="Should not be kept")
    assert participant.get(db, anonymous, browser.participant_id)["name"] is None
    assert 'name="name"' not in browser.get(f"/j/{anonymous['code']}").get_data(as_text=True)


def test_voting_without_javascript_redirects_back(app, db, workshop):
    workshop = _step(db, workshop, "drivers")
    browser = join(app, workshop)
    driver = workshops.items(db, workshop, kinds=("driver",))[0]
    response = browser.post(f"/w/{workshop['code']}/items/{driver['id']}/dots", {"dots": "2"})
    assert response.status_code == 303
    assert vote.tallies(db, workshop)[driver["id"]]["total"] == 2


def test_each_item_s_forms_go_to_its_own_address_on_the_path_the_app_is_served_under(app, db, workshop):
    # The forms' addresses are kept between pages; an app served under a path prefix gets its own.
    workshop = workshops.get(db, workshop["id"])
    workshops.set_step(db, workshop["id"], "drivers")
    browser = join(app, workshop)
    listed = workshops.items(db, workshop, ("driver",))
    for prefix in ("", "/regio", ""):
        page = browser.get(f"/w/{workshop['code']}", base_url=f"http://localhost{prefix}").get_data(as_text=True)
        for item in listed:
            for action in ("dots", "comments"):
                assert f'action="{prefix}/w/{workshop["code"]}/items/{item["id"]}/{action}"' in page


def test_a_vote_s_answer_keeps_the_token_it_was_sent_with(app, db, workshop):
    # Tokens do not age here (WTF_CSRF_TIME_LIMIT is None): the answer's forms carry the one just
    # checked, not a new one signed again for every vote.
    import time

    workshop = _step(db, workshop, "drivers")
    browser = join(app, workshop)
    page = browser.get(f"/w/{workshop['code']}").get_data(as_text=True)
    sent = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    time.sleep(1.1)  # a token signed now would differ: its time is counted in seconds
    item = workshops.items(db, workshop, kinds=("driver",))[0]
    body = browser.post(f"/w/{workshop['code']}/items/{item['id']}/dots", {"dots": "1", "csrf_token": sent},
                        htmx=True).get_data(as_text=True)
    assert set(re.findall(r'name="csrf_token" value="([^"]+)"', body)) == {sent}
    # A page drawn now is given a token signed now.
    fresh = browser.get(f"/w/{workshop['code']}").get_data(as_text=True)
    assert re.search(r'name="csrf_token" value="([^"]+)"', fresh).group(1) != sent


def test_a_form_drawn_after_the_session_was_started_anew_gets_a_token_of_its_own(app):
    from flask import g, session

    from toolkit.web import csrf_token_once

    with app.test_request_context("/", method="POST", data={"csrf_token": "sent"}):
        session["csrf_token"] = "before"
        g.csrf_valid = True  # as Flask-WTF marks a request whose token it checked
        session.clear()  # as a login does
        assert csrf_token_once() != "sent" and session.get("csrf_token")


def test_a_vote_answers_with_the_controls_it_changed_not_the_whole_step(app, db, workshop):
    workshop = _step(db, workshop, "drivers")
    steps.set_revealed(db, workshop, "drivers", True)
    browser = join(app, workshop)
    first, second, third = workshops.items(db, workshop, kinds=("driver",))[:3]
    url = f"/w/{workshop['code']}/items/{{}}/dots"
    body = browser.post(url.format(first["id"]), {"dots": "2"}, htmx=True).get_data(as_text=True)
    # Only the voted item's controls and the budget line: results, comments and texts stay put.
    assert re.findall(r'id="controls-(\d+)" hx-swap-oob="true"', body) == [str(first["id"])]
    assert 'id="dots-left" hx-swap-oob="true"' in body and "nog 3 stippen" in body
    assert 'id="vote-area"' not in body and "result-" not in body and "comment" not in body
    # Spending the last dot disables every "+", so every item's controls come along.
    body = browser.post(url.format(second["id"]), {"dots": "3"}, htmx=True).get_data(as_text=True)
    assert f'id="controls-{third["id"]}" hx-swap-oob="true"' in body
    assert re.search(f'id="plus-{third["id"]}" class="dot-button"\\s+aria-disabled="true"', body)
    # Taking one back enables them again; moving dots between items while none are left does not.
    body = browser.post(url.format(second["id"]), {"dots": "2"}, htmx=True).get_data(as_text=True)
    assert re.search(f'id="plus-{third["id"]}" class="dot-button"\\s+aria-disabled="false"', body)
    body = browser.post(url.format(first["id"]), {"dots": "1"}, htmx=True).get_data(as_text=True)
    assert re.findall(r'id="controls-(\d+)" hx-swap-oob="true"', body) == [str(first["id"])]


def test_a_points_vote_answers_with_that_item_s_form(app, db, workshop):
    workshop = _step(db, workshop, "drivers")
    steps.configure(db, workshop, "drivers", {"method": "points"})
    browser = join(app, workshop)
    first, second = workshops.items(db, workshop, kinds=("driver",))[:2]
    body = browser.post(f"/w/{workshop['code']}/items/{first['id']}/dots", {"dots": "30"},
                        htmx=True).get_data(as_text=True)
    assert re.findall(r'id="controls-(\d+)" hx-swap-oob="true"', body) == [str(first["id"])]
    assert f'id="points-{first["id"]}-30"' in body and "nog 70 punten" in body


def test_taking_the_last_dot_off_a_hidden_item_takes_it_off_the_list(app, db, workshop):
    workshop = _step(db, workshop, "drivers")
    browser = join(app, workshop)
    driver = workshops.items(db, workshop, kinds=("driver",))[0]
    url = f"/w/{workshop['code']}/items/{driver['id']}/dots"
    browser.post(url, {"dots": "1"}, htmx=True)
    workshops.set_hidden(db, workshop, driver["id"], True)
    body = browser.post(url, {"dots": "0"}, htmx=True).get_data(as_text=True)
    assert 'id="vote-area" hx-swap-oob="true"' in body and f'id="item-{driver["id"]}"' not in body


def test_voting_with_htmx_returns_a_fragment_with_the_budget(app, db, workshop):
    workshop = _step(db, workshop, "drivers")
    browser = join(app, workshop)
    driver = workshops.items(db, workshop, kinds=("driver",))[0]
    response = browser.post(f"/w/{workshop['code']}/items/{driver['id']}/dots", {"dots": "3"}, htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body
    assert "Je hebt nog 2 stippen voor deze stap." in body
    assert 'hx-swap-oob="innerHTML"' in body
    assert "HX-Request" in response.headers["Vary"]


def test_over_budget_vote_gets_a_message_and_changes_nothing(app, db, workshop):
    workshop = _step(db, workshop, "drivers")
    browser = join(app, workshop)
    first, second, _ = workshops.items(db, workshop, kinds=("driver",))
    browser.post(f"/w/{workshop['code']}/items/{first['id']}/dots", {"dots": "5"})
    response = browser.post(f"/w/{workshop['code']}/items/{second['id']}/dots", {"dots": "1"}, htmx=True)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#messages"
    assert "stippen" in response.get_data(as_text=True)
    assert vote.tallies(db, workshop)[first["id"]]["total"] == 5
    assert second["id"] not in vote.tallies(db, workshop)


def test_dots_on_a_hidden_item_can_be_taken_back(app, db, workshop):
    workshop = _step(db, workshop, "drivers")
    browser = join(app, workshop)
    driver = workshops.items(db, workshop, kinds=("driver",))[0]
    url = f"/w/{workshop['code']}/items/{driver['id']}/dots"
    browser.post(url, {"dots": "2"})
    workshops.set_hidden(db, workshop, driver["id"], True)
    page = browser.get(f"/w/{workshop['code']}").get_data(as_text=True)
    assert "uit de stemming gehaald" in page
    assert re.search(f'id="plus-{driver["id"]}" class="dot-button"\\s+aria-disabled="true"', page)
    assert browser.post(url, {"dots": "3"}).status_code == 422
    assert browser.post(url, {"dots": "1"}).status_code == 303
    assert vote.tallies(db, workshop)[driver["id"]]["total"] == 1


def test_a_participant_stays_joined_after_closing_the_browser(app, workshop):
    browser = join(app, workshop)
    cookie = browser.client.get_cookie("session")
    assert cookie.expires is not None


def test_add_own_item_once_even_when_sent_twice(app, db, workshop):
    workshop = _step(db, workshop, "barriers")
    browser = join(app, workshop)
    form = {"kind": "barrier", "title": "Te weinig stageplekken", "explanation": "", "request_token": "abc123"}
    for _ in range(2):
        assert browser.post(f"/w/{workshop['code']}/items", form).status_code == 303
    own = [i for i in workshops.items(db, workshop) if i["origin"] == "workshop"]
    assert [(i["kind"], i["title"]) for i in own] == [("barrier", "Te weinig stageplekken")]
    assert own[0]["added_by"] == browser.participant_id
    assert "Te weinig stageplekken" in browser.get(f"/w/{workshop['code']}").get_data(as_text=True)


def test_add_item_with_an_empty_title_is_refused(app, db, workshop):
    workshop = _step(db, workshop, "drivers")
    browser = join(app, workshop)
    response = browser.post(f"/w/{workshop['code']}/items", {"kind": "driver", "title": "  ",
                                                             "explanation": "keep me"})
    assert response.status_code == 422
    assert "Vul dit veld in." in response.get_data(as_text=True)
    assert "keep me" in response.get_data(as_text=True)


def test_propose_an_action_for_an_adopted_recommendation(app, db, workshop):
    recommendation = workshops.items(db, workshop, kinds=("recommendation",))[0]
    workshops.set_adopted(db, workshop, recommendation["id"], True)
    workshop = _step(db, workshop, "actions")
    browser = join(app, workshop)
    form = {"recommendation_id": recommendation["id"], "what": "Leerrecht 40 uur", "lead": "FNV",
            "partners": "ROC", "timeline": "2027", "resources": "Sectorfonds", "indicator": "60%",
            "request_token": "t1"}
    for _ in range(2):
        assert browser.post(f"/w/{workshop['code']}/actions", form).status_code == 303
    stored = action.for_workshop(db, workshop)
    assert len(stored) == 1
    assert {k: stored[0][k] for k in action.TEXT_FIELDS if k in form} == {k: form[k] for k in action.TEXT_FIELDS if k in form}
    assert stored[0]["proposed_by"] == browser.participant_id


def test_actions_only_for_adopted_recommendations(app, db, workshop):
    workshop = _step(db, workshop, "actions")
    browser = join(app, workshop)
    recommendation = workshops.items(db, workshop, kinds=("recommendation",))[0]
    response = browser.post(f"/w/{workshop['code']}/actions",
                            {"recommendation_id": recommendation["id"], "what": "x", "lead": "y"})
    assert response.status_code == 422
    assert action.for_workshop(db, workshop) == []


def test_the_live_poll_answers_204_until_the_room_changes(app, db, workshop):
    browser = join(app, workshop)
    revision = workshops.get(db, workshop["id"])["revision"]
    url = f"/w/{workshop['code']}/live?step=welcome&rev={revision}"
    assert browser.get(url).status_code == 204
    assert browser.get(url).get_data() == b""
    _step(db, workshop, "drivers")
    moved = browser.get(url)
    assert moved.status_code == 200 and moved.headers["HX-Trigger"] == "room-moved"
    body = moved.get_data(as_text=True)
    assert "Drijfveren" in body and 'id="step-banner" hx-swap-oob="innerHTML"' in body
    newer = workshops.get(db, workshop["id"])["revision"]
    assert f"rev={newer}" in body
    assert browser.get(f"/w/{workshop['code']}/live?step=welcome&rev={newer}").status_code == 204


def test_every_change_bumps_the_revision(app, db, workshop):
    seen = [workshops.get(db, workshop["id"])["revision"]]

    def moved():
        seen.append(workshops.get(db, workshop["id"])["revision"])
        return seen[-1] > seen[-2]

    browser = join(app, workshop)
    assert moved()
    workshop = _step(db, workshop, "drivers")
    assert moved()
    driver = workshops.items(db, workshop, kinds=("driver",))[0]
    browser.post(f"/w/{workshop['code']}/items/{driver['id']}/dots", {"dots": "1"})
    assert moved()
    browser.post(f"/w/{workshop['code']}/items", {"kind": "driver", "title": "Nieuw"})
    assert moved()
    workshops.set_hidden(db, workshop, driver["id"], True)
    assert moved()
    browser.get(f"/w/{workshop['code']}/live?step=drivers&rev=0")  # being seen is not a change
    assert not moved()


def test_a_join_form_sent_twice_joins_once(app, db, workshop):
    browser = Visitor(app.test_client())
    form = {"name": "Pat", "organisation": "Acme", "stakeholder_group": "workers", "request_token": "join-1"}
    for _ in range(3):
        assert browser.post(f"/j/{workshop['code']}", form).status_code == 303
    assert len(participant.in_room(db, workshop)) == 1
    # The same token from another phone with other details is another person.
    other = Visitor(app.test_client())
    other.post(f"/j/{workshop['code']}", {**form, "name": "Sam"})
    assert [p["name"] for p in participant.in_room(db, workshop)] == ["Pat", "Sam"]


def test_a_form_reused_after_back_adds_its_new_content(app, db, workshop):
    workshop = _step(db, workshop, "drivers")
    browser = join(app, workshop)
    for title in ("Eerste punt", "Tweede punt", "Tweede punt"):
        browser.post(f"/w/{workshop['code']}/items", {"kind": "driver", "title": title, "request_token": "same"})
    own = [i["title"] for i in workshops.items(db, workshop) if i["origin"] == "workshop"]
    assert own == ["Eerste punt", "Tweede punt"]


def test_one_browser_keeps_its_identity_in_each_workshop(app, db, facilitator, workshop):
    other = workshops.create(db, facilitator.account["id"], WORKSHOP_FORM)
    browser = join(app, workshop)
    first_id = browser.participant_id
    browser.post(f"/j/{other['code']}", {"name": "Pat", "organisation": "Acme", "stakeholder_group": "other"})
    assert browser.get(f"/w/{workshop['code']}").status_code == 200
    assert browser.get(f"/w/{other['code']}").status_code == 200
    assert browser.get(f"/j/{workshop['code']}").location.endswith(f"/w/{workshop['code']}")
    assert [p["id"] for p in participant.in_room(db, workshop)] == [first_id]
