"""Running a step: locks, reveals, methods, caps, timers, done, presence, proxies and rejoining."""
import pytest
from conftest import Visitor, at_step, join, person

from toolkit import comment, participant, vote
from toolkit import step as steps
from toolkit import workshop as workshops
from toolkit.validation import Invalid, NotFound




def test_a_locked_step_takes_no_votes_items_or_comments(db, workshop):
    workshop = at_step(db, workshop, "drivers")
    me = person(db, workshop)
    driver = workshops.items(db, workshop, kinds=("driver",))[0]
    vote.set_dots(db, workshop, me["id"], driver["id"], 1)
    steps.set_locked(db, workshop, "drivers", True)
    with pytest.raises(Invalid):
        vote.set_dots(db, workshop, me["id"], driver["id"], 2)
    with pytest.raises(Invalid):
        workshops.add_item(db, workshop, {"title": "x"}, ("driver",), participant_id=me["id"])
    with pytest.raises(Invalid):
        comment.add(db, workshop, driver["id"], {"body": "x"}, participant_id=me["id"])
    # The facilitator may still add a regional item to a locked step.
    workshops.add_item(db, workshop, {"title": "Regionaal"}, ("driver",))
    steps.set_locked(db, workshop, "drivers", False)
    assert vote.set_dots(db, workshop, me["id"], driver["id"], 2)["dots"] == 2


def test_points_share_out_a_hundred(db, workshop):
    workshop = at_step(db, workshop, "recommendations")
    steps.configure(db, workshop, "recommendations", {"method": "points"})
    me = person(db, workshop)
    first, second, *_ = workshops.items(db, workshop, kinds=("recommendation",))
    assert vote.set_dots(db, workshop, me["id"], first["id"], 70)["left"] == 30
    with pytest.raises(Invalid):
        vote.set_dots(db, workshop, me["id"], second["id"], 31)
    assert vote.set_dots(db, workshop, me["id"], second["id"], 30)["left"] == 0
    with pytest.raises(Invalid):
        vote.set_dots(db, workshop, me["id"], second["id"], 101)


def test_a_cap_per_item(db, workshop):
    workshop = at_step(db, workshop, "drivers")
    steps.configure(db, workshop, "drivers", {"method": "dots", "cap": "2"})
    me = person(db, workshop)
    driver = workshops.items(db, workshop, kinds=("driver",))[0]
    vote.set_dots(db, workshop, me["id"], driver["id"], 2)
    with pytest.raises(Invalid):
        vote.set_dots(db, workshop, me["id"], driver["id"], 3)


def test_the_method_is_fixed_once_votes_are_cast(db, workshop):
    workshop = at_step(db, workshop, "drivers")
    me = person(db, workshop)
    vote.set_dots(db, workshop, me["id"], workshops.items(db, workshop, kinds=("driver",))[0]["id"], 1)
    with pytest.raises(Invalid):
        steps.configure(db, workshop, "drivers", {"method": "points"})
    assert steps.configure(db, workshop, "drivers", {"method": "dots", "cap": "3"})["cap"] == 3
    with pytest.raises(Invalid):
        steps.configure(db, workshop, "welcome", {"method": "dots"})


def test_timer_done_and_presence(db, workshop):
    settings = steps.start_timer(db, workshop, "drivers", "5")
    assert 290 <= steps.seconds_left(settings) <= 300
    assert steps.seconds_left(steps.stop_timer(db, workshop, "drivers")) is None
    with pytest.raises(Invalid):
        steps.start_timer(db, workshop, "drivers", "0")
    me = person(db, workshop)
    steps.set_done(db, workshop, me["id"], "drivers", True)
    steps.set_done(db, workshop, me["id"], "drivers", True)
    assert steps.done(db, workshop, "drivers") == {me["id"]}
    steps.set_done(db, workshop, me["id"], "drivers", False)
    assert steps.done(db, workshop, "drivers") == set()
    assert steps.connected(db, workshop) == set()
    steps.mark_seen(db, participant.get(db, workshop, me["id"]))
    assert steps.connected(db, workshop) == {me["id"]}


def test_many_present_at_once_are_written_in_one_go(db, workshop):
    here = [person(db, workshop, name=f"P{i}")["id"] for i in range(3)]
    revision = workshops.get(db, workshop["id"])["revision"]
    # More ids than SQLite takes parameters in one statement on older builds, most of them gone.
    steps.mark_present(db, [*here, *range(10**6, 10**6 + 1200)])
    assert steps.connected(db, workshop) == set(here)
    assert workshops.get(db, workshop["id"])["revision"] == revision  # nothing the room sees changed


def test_results_stay_hidden_from_the_room_until_revealed(app, db, workshop):
    workshop = at_step(db, workshop, "drivers")
    browser = join(app, workshop)
    driver = workshops.items(db, workshop, kinds=("driver",))[0]
    browser.post(f"/w/{workshop['code']}/items/{driver['id']}/dots", {"dots": "2"})
    assert "Totaal: 2" not in browser.get(f"/w/{workshop['code']}").get_data(as_text=True)
    steps.set_revealed(db, workshop, "drivers", True)
    assert "Totaal: 2" in browser.get(f"/w/{workshop['code']}").get_data(as_text=True)


def test_named_votes_only_where_asked_and_never_in_anonymous_workshops(app, db, workshop):
    workshop = at_step(db, workshop, "drivers")
    browser = join(app, workshop, name="Zoë Visible")
    driver = workshops.items(db, workshop, kinds=("driver",))[0]
    browser.post(f"/w/{workshop['code']}/items/{driver['id']}/dots", {"dots": "1"})
    steps.set_revealed(db, workshop, "drivers", True)
    assert "Zoë Visible (1)" not in browser.get(f"/w/{workshop['code']}").get_data(as_text=True)
    steps.configure(db, workshop, "drivers", {"method": "dots", "named_votes": "1"})
    assert "Zoë Visible (1)" in browser.get(f"/w/{workshop['code']}").get_data(as_text=True)


def test_facilitator_controls_over_http(facilitator, db, workshop):
    url = f"/facilitator/workshops/{workshop['code']}/steps/drivers"
    for change, check in (("lock", lambda s: s["locked"]), ("open", lambda s: not s["locked"]),
                          ("reveal", lambda s: s["revealed"]), ("hide", lambda s: not s["revealed"])):
        assert facilitator.post(url, {"change": change}).status_code == 303
        assert check(steps.settings(db, workshop, "drivers")), change
    facilitator.post(url, {"change": "timer", "minutes": "3"})
    assert steps.settings(db, workshop, "drivers")["timer_ends_at"]
    assert facilitator.post(url, {"change": "timer", "minutes": "-1"}).status_code == 422
    assert facilitator.post(url, {"change": "configure", "method": "points", "cap": "40"}).status_code == 303
    assert steps.settings(db, workshop, "drivers")["budget"] == 100
    assert facilitator.post(url, {"change": "explode"}).status_code == 404
    assert facilitator.post(f"/facilitator/workshops/{workshop['code']}/steps/nowhere", {"change": "lock"}).status_code == 404


def test_facilitator_live_poll(facilitator, db, workshop):
    revision = workshops.get(db, workshop["id"])["revision"]
    url = f"/facilitator/workshops/{workshop['code']}/live?step=welcome&rev={revision}"
    assert facilitator.get(url).status_code == 204
    person(db, workshop, name="Nieuw")
    changed = facilitator.get(url, headers={"HX-Request": "true"})
    assert changed.status_code == 200 and 'id="room" hx-swap-oob="true"' in changed.get_data(as_text=True)


def test_rejoin_on_another_device_with_the_personal_code(app, db, workshop):
    first = join(app, workshop)
    me = participant.get(db, workshop, first.participant_id)
    other = Visitor(app.test_client())
    typed = me["rejoin_code"].lower()[:5] + " " + me["rejoin_code"].lower()[5:]
    assert other.post(f"/j/{workshop['code']}/rejoin", {"rejoin_code": typed}).status_code == 303
    with other.client.session_transaction() as session:
        assert session["participants"][str(workshop["id"])][0] == me["id"]
    wrong = Visitor(app.test_client()).post(f"/j/{workshop['code']}/rejoin", {"rejoin_code": "AAAAAAAAAA"})
    assert wrong.status_code == 404 and "persoonlijke code" in wrong.get_data(as_text=True)
    assert Visitor(app.test_client()).get(f"/r/{workshop['code']}/{me['rejoin_code']}").status_code == 303
    assert len(participant.in_room(db, workshop)) == 1


def test_a_rejoin_code_of_another_workshop_is_unknown(app, db, facilitator, workshop):
    from conftest import WORKSHOP_FORM

    other = workshops.create(db, facilitator.account["id"], WORKSHOP_FORM)
    me = participant.get(db, workshop, join(app, workshop).participant_id)
    with pytest.raises(NotFound):
        participant.by_rejoin_code(db, other, me["rejoin_code"])


def test_facilitator_takes_part_for_someone_without_a_device(facilitator, db, workshop):
    workshop = at_step(db, workshop, "drivers")
    code = workshop["code"]
    response = facilitator.post(f"/facilitator/workshops/{code}/participants",
                                {"name": "Gerda", "organisation": "Bakkerij", "stakeholder_group": "companies",
                                 "request_token": "offline-1"})
    assert response.status_code == 303
    gerda = next(p for p in participant.in_room(db, workshop) if p["name"] == "Gerda")
    assert gerda["on_behalf"] == 1
    assert facilitator.post(f"/facilitator/workshops/{code}/participants/{gerda['id']}/act").status_code == 303
    driver = workshops.items(db, workshop, kinds=("driver",))[0]
    facilitator.post(f"/w/{code}/items/{driver['id']}/dots", {"dots": "2"})
    facilitator.post(f"/w/{code}/items", {"kind": "driver", "title": "Gerda's punt"})
    assert vote.my_dots(db, gerda["id"]) == {driver["id"]: 2}
    own = next(i for i in workshops.items(db, workshop) if i["title"] == "Gerda's punt")
    assert own["on_behalf"] and own["added_by"] == gerda["id"]


def test_the_facilitator_never_takes_over_a_participants_own_voice(app, facilitator, db, workshop):
    person = join(app, workshop)
    response = facilitator.post(f"/facilitator/workshops/{workshop['code']}/participants/{person.participant_id}/act")
    assert response.status_code == 404


def test_comment_merge_and_edit_over_http(app, facilitator, db, workshop):
    workshop = at_step(db, workshop, "drivers")
    code = workshop["code"]
    person = join(app, workshop)
    person.post(f"/w/{code}/items", {"kind": "driver", "title": "Dubbel"})
    own = next(i for i in workshops.items(db, workshop) if i["title"] == "Dubbel")
    person.post(f"/w/{code}/items/{own['id']}/dots", {"dots": "1"})
    response = person.post(f"/w/{code}/items/{own['id']}/comments", {"body": "Klopt", "request_token": "c1"}, htmx=True)
    assert response.status_code == 200 and "Klopt" in response.get_data(as_text=True)
    listed = comment.for_items(db, workshop)[own["id"]]
    assert [c["body"] for c in listed] == ["Klopt"]
    facilitator.post(f"/facilitator/workshops/{code}/comments/{listed[0]['id']}/hidden", {"hidden": "1"})
    assert comment.for_items(db, workshop) == {}
    assert facilitator.post(f"/facilitator/workshops/{code}/items/{own['id']}/edit",
                            {"title": "Dubbel punt", "explanation": ""}).status_code == 303
    target = workshops.items(db, workshop, kinds=("driver",))[0]
    assert facilitator.post(f"/facilitator/workshops/{code}/merge",
                            {"source_id": own["id"], "target_id": target["id"], "step": "drivers"}).status_code == 303
    assert vote.tallies(db, workshop)[target["id"]]["total"] == 1
    assert facilitator.post(f"/facilitator/workshops/{code}/merge",
                            {"source_id": target["id"], "target_id": target["id"]}).status_code == 422
    study_item = workshops.items(db, workshop, kinds=("driver",))[1]
    assert facilitator.post(f"/facilitator/workshops/{code}/items/{study_item['id']}/edit",
                            {"title": "Anders"}).status_code == 422


def test_a_locked_actions_step_takes_no_proposals(app, db, workshop):
    from toolkit import action

    recommendation = workshops.items(db, workshop, kinds=("recommendation",))[0]
    workshops.set_adopted(db, workshop, recommendation["id"], True)
    workshop = at_step(db, workshop, "actions")
    me = person(db, workshop)
    steps.set_locked(db, workshop, "actions", True)
    with pytest.raises(Invalid):
        action.propose(db, workshop, {"recommendation_id": recommendation["id"], "what": "x", "lead": "y"},
                       participant_id=me["id"])
    browser = join(app, workshop)
    assert 'id="f-what"' not in browser.get(f"/w/{workshop['code']}").get_data(as_text=True)


def test_points_do_not_hold_the_dot_budget_down(db, workshop):
    workshop = at_step(db, workshop, "recommendations")
    steps.configure(db, workshop, "recommendations", {"method": "points"})
    me = person(db, workshop)
    vote.set_dots(db, workshop, me["id"], workshops.items(db, workshop, kinds=("recommendation",))[0]["id"], 60)
    assert workshops.update(db, workshop["id"], {**workshop, "dots": "3"})["dots"] == 3


def test_comments_only_on_the_current_steps_items(db, workshop):
    workshop = at_step(db, workshop, "recommendations")
    me = person(db, workshop)
    driver = workshops.items(db, workshop, kinds=("driver",))[0]
    with pytest.raises(Invalid):
        comment.add(db, workshop, driver["id"], {"body": "te laat"}, participant_id=me["id"])


def test_votes_entered_for_someone_without_a_device_are_marked(app, facilitator, db, workshop):
    workshop = at_step(db, workshop, "drivers")
    gerda = participant.join(db, workshop, {"name": "Gerda", "organisation": "Bakkerij",
                                            "stakeholder_group": "other"}, on_behalf=True)
    driver = workshops.items(db, workshop, kinds=("driver",))[0]
    vote.set_dots(db, workshop, gerda["id"], driver["id"], 1)
    steps.set_revealed(db, workshop, "drivers", True)
    steps.configure(db, workshop, "drivers", {"method": "dots", "named_votes": "1"})
    page = join(app, workshop).get(f"/w/{workshop['code']}").get_data(as_text=True)
    assert "Gerda (1, ingevoerd door de facilitator)" in page
