"""Actions that can be carried out: fields, editing together, history, volunteers, ratings, follow-up."""
import pytest
from conftest import at_step, person

from toolkit import action, agenda, editing, texts
from toolkit import workshop as workshops
from toolkit.validation import Invalid


@pytest.fixture
def room(db, workshop):
    """A workshop at the actions step with one adopted recommendation and two participants."""
    recommendation = workshops.items(db, workshop, kinds=("recommendation",))[0]
    workshops.set_adopted(db, workshop, recommendation["id"], True)
    workshop = at_step(db, workshop, "actions")
    anna = person(db, workshop, "companies", "Anna", "Norma")
    bram = person(db, workshop, "education", "Bram", "ROC")
    return workshop, recommendation, anna, bram


def _form(recommendation, **fields):
    return {"recommendation_id": recommendation["id"], "what": "Leerrecht", "lead": "FNV", **fields}


def test_every_field_is_kept(db, room):
    workshop, recommendation, anna, _ = room
    driver = workshops.items(db, workshop, kinds=("driver",))[0]
    made = action.propose(db, workshop, _form(
        recommendation, answers_item_id=driver["id"], partners="ROC", starts="Q2 2027", ends="2028",
        timeline="start na de zomer", resources="€ 40.000", indicator="60 mensen",
        first_step="Overleg in februari"), participant_id=anna["id"])
    assert {k: made[k] for k in ("answers_item_id", "starts", "ends", "first_step", "status", "version")} == {
        "answers_item_id": driver["id"], "starts": "2027-Q2", "ends": "2028",
        "first_step": "Overleg in februari", "status": "planned", "version": 1}


@pytest.mark.parametrize("typed, stored", [
    ("2027", "2027"), ("2027-q3", "2027-Q3"), ("Q3 2027", "2027-Q3"), ("2027/03", "2027-03"),
    ("2027-03-15", "2027-03-15"), ("", ""),
])
def test_periods_are_stored_in_one_form(typed, stored):
    assert action.period(typed, "starts") == stored


@pytest.mark.parametrize("typed", ["volgend jaar", "2027-Q5", "2027-13", "2027-02-30", "27", "2027-03-15-1",
                                   "0000", "0000-Q1", "9999-Q4", "9999-12", "\u0662\u0660\u0662\u0667"])
def test_wrong_periods_are_refused(typed):
    with pytest.raises(Invalid):
        action.period(typed, "starts")


def test_a_period_without_real_days_never_reaches_the_pages(db, room, facilitator):
    """Year 0 or the last quarter of 9999 has no first or last day: stored, it broke every page showing it."""
    workshop, recommendation, *_ = room
    for typed in ("0000", "9999-Q4"):
        with pytest.raises(Invalid):
            action.propose(db, workshop, _form(recommendation, starts=typed))
    assert facilitator.get(f"/facilitator/workshops/{workshop['code']}?step=actions").status_code == 200


def test_an_end_before_the_start_is_refused(db, room):
    workshop, recommendation, *_ = room
    with pytest.raises(Invalid) as refused:
        action.propose(db, workshop, _form(recommendation, starts="2028-Q1", ends="2027"))
    assert refused.value.field == "ends"
    # The same quarter as start and end is one quarter long, not a mistake.
    assert action.propose(db, workshop, _form(recommendation, starts="2027-Q2", ends="2027-05"))


def test_an_action_answers_only_this_workshops_drivers_and_barriers(db, room, facilitator):
    workshop, recommendation, *_ = room
    other = workshops.create(db, facilitator.account["id"], {
        "title": "Ander", "region": "R", "sector": "S", "date": "2026-12-01", "language": "nl", "dots": "5"})
    foreign = workshops.items(db, other, kinds=("driver",))[0]
    for wrong in (foreign["id"], recommendation["id"], "abc", "99999999999999999999"):
        with pytest.raises(Invalid):
            action.propose(db, workshop, _form(recommendation, answers_item_id=wrong))


def test_edits_from_the_current_version_save_and_are_recorded(db, room):
    workshop, recommendation, anna, bram = room
    made = action.propose(db, workshop, _form(recommendation), participant_id=anna["id"])
    saved = action.edit(db, workshop, made["id"], _form(recommendation, what="Leerrecht 40 uur", version=1),
                        participant_id=bram["id"])
    assert saved["version"] == 2 and saved["what"] == "Leerrecht 40 uur"
    history = editing.history(db, workshop, action.subject(made))
    assert [(e["kind"], e["version"], e["participant_id"]) for e in history] == [
        ("edited", 2, bram["id"]), ("created", 1, anna["id"])]
    assert history[0]["changes"] == {"what": ["Leerrecht", "Leerrecht 40 uur"]}


def test_saving_nothing_new_makes_no_version(db, room):
    workshop, recommendation, anna, _ = room
    made = action.propose(db, workshop, _form(recommendation), participant_id=anna["id"])
    again = action.edit(db, workshop, made["id"], _form(recommendation, version=1), participant_id=anna["id"])
    assert again["version"] == 1
    assert len(editing.history(db, workshop, action.subject(made))) == 1


def test_two_edits_of_the_same_field_collide_and_nothing_is_overwritten(db, room):
    workshop, recommendation, anna, bram = room
    made = action.propose(db, workshop, _form(recommendation), participant_id=anna["id"])
    action.edit(db, workshop, made["id"], _form(recommendation, what="Anna's text", version=1),
                participant_id=anna["id"])
    with pytest.raises(editing.Conflict) as collided:
        action.edit(db, workshop, made["id"], _form(recommendation, what="Bram's text", version=1),
                    participant_id=bram["id"])
    conflict = collided.value
    assert conflict.fields == ["what"]
    assert conflict.current["what"] == "Anna's text" and conflict.mine["what"] == "Bram's text"
    assert conflict.by["participant_id"] == anna["id"]
    assert action.get(db, workshop, made["id"])["what"] == "Anna's text"


def test_edits_of_different_fields_both_stay(db, room):
    workshop, recommendation, anna, bram = room
    made = action.propose(db, workshop, _form(recommendation), participant_id=anna["id"])
    action.edit(db, workshop, made["id"], _form(recommendation, partners="ROC", version=1),
                participant_id=anna["id"])
    saved = action.edit(db, workshop, made["id"], _form(recommendation, indicator="60 mensen", version=1),
                        participant_id=bram["id"])
    assert (saved["partners"], saved["indicator"], saved["version"]) == ("ROC", "60 mensen", 3)


def test_the_same_change_made_twice_is_no_collision(db, room):
    workshop, recommendation, anna, bram = room
    made = action.propose(db, workshop, _form(recommendation), participant_id=anna["id"])
    action.edit(db, workshop, made["id"], _form(recommendation, lead="Saxion", version=1), participant_id=anna["id"])
    saved = action.edit(db, workshop, made["id"], _form(recommendation, lead="Saxion", version=1),
                        participant_id=bram["id"])
    assert saved["lead"] == "Saxion" and saved["version"] == 2


def test_removing_keeps_the_action_in_the_history(db, room, facilitator):
    workshop, recommendation, anna, _ = room
    made = action.propose(db, workshop, _form(recommendation), participant_id=anna["id"])
    action.remove(db, workshop, made["id"], facilitator_id=facilitator.account["id"])
    latest = editing.history(db, workshop)[0]
    assert latest["kind"] == "removed" and latest["changes"]["what"] == ["Leerrecht", None]
    assert latest["who"]["name"] == "Fa"


def test_volunteering_as_lead_or_partner(db, room):
    workshop, recommendation, anna, bram = room
    made = action.propose(db, workshop, _form(recommendation, lead=""))
    action.volunteer(db, workshop, made["id"], anna["id"], "lead")
    action.volunteer(db, workshop, made["id"], bram["id"], "partner")
    action.volunteer(db, workshop, made["id"], anna["id"], "partner")  # a change of mind replaces
    offered = action.volunteers(db, workshop)[made["id"]]
    assert sorted((v["organisation"], v["role"]) for v in offered) == [("Norma", "partner"), ("ROC", "partner")]
    action.volunteer(db, workshop, made["id"], anna["id"], "")
    assert [v["organisation"] for v in action.volunteers(db, workshop)[made["id"]]] == ["ROC"]
    with pytest.raises(Invalid):
        action.volunteer(db, workshop, made["id"], anna["id"], "boss")


def test_ratings_average_into_a_quadrant(db, room):
    workshop, recommendation, anna, bram = room
    quick = action.propose(db, workshop, _form(recommendation, what="Snel"))
    big = action.propose(db, workshop, _form(recommendation, what="Groot"))
    action.rate(db, workshop, quick["id"], anna["id"], {"impact": "5", "effort": "1"})
    action.rate(db, workshop, quick["id"], bram["id"], {"impact": "4", "effort": "2"})
    action.rate(db, workshop, big["id"], anna["id"], {"impact": "3", "effort": "3"})
    action.rate(db, workshop, big["id"], anna["id"], {"impact": "4", "effort": "5"})  # replaces
    rated = action.ratings(db, workshop)
    assert (rated[quick["id"]]["impact"], rated[quick["id"]]["effort"], rated[quick["id"]]["ratings"]) == (4.5, 1.5, 2)
    assert rated[quick["id"]]["quadrant"] == "quick_win"
    assert (rated[big["id"]]["impact"], rated[big["id"]]["ratings"], rated[big["id"]]["quadrant"]) == (4, 1, "major_project")
    for wrong in ({"impact": "6", "effort": "1"}, {"impact": "0", "effort": "1"}, {"impact": "x", "effort": "2"}, {}):
        with pytest.raises(Invalid):
            action.rate(db, workshop, quick["id"], anna["id"], wrong)


@pytest.mark.parametrize("impact, effort, expected", [
    (3, 2.99, "quick_win"), (3, 3, "major_project"), (2.99, 1, "fill_in"), (1, 5, "reconsider"), (None, 3, None)])
def test_quadrant_edges(impact, effort, expected):
    assert action.quadrant(impact, effort) == expected


def test_the_room_cannot_work_on_actions_when_locked_elsewhere_or_closed(db, room):
    workshop, recommendation, anna, _ = room
    made = action.propose(db, workshop, _form(recommendation), participant_id=anna["id"])
    closed = workshops.set_closed(db, workshop, True)
    # workshop is the workshop as a request read it a moment before the facilitator closed it.
    for seen in (closed, workshop):
        for attempt in (
            lambda: action.propose(db, seen, _form(recommendation), participant_id=anna["id"]),
            lambda: action.edit(db, seen, made["id"], _form(recommendation, what="x", version=1),
                                participant_id=anna["id"]),
            lambda: action.rate(db, seen, made["id"], anna["id"], {"impact": 3, "effort": 3}),
            lambda: action.volunteer(db, seen, made["id"], anna["id"], "lead"),
            lambda: texts.save(db, seen, "vision", {"body": "x", "version": 0}, participant_id=anna["id"]),
        ):
            with pytest.raises(Invalid):
                attempt()
    assert action.get(db, closed, made["id"])["what"] == "Leerrecht"
    assert db["action_ratings"].count == db["action_volunteers"].count == db["agenda_texts"].count == 0


def test_follow_up_after_closing_and_a_draft_that_shows_it(db, room, facilitator):
    workshop, recommendation, anna, _ = room
    made = action.propose(db, workshop, _form(recommendation), participant_id=anna["id"])
    first = agenda.export_draft(db, workshop)
    closed = workshops.set_closed(db, workshop, True)
    action.edit(db, closed, made["id"], {"status": "started", "progress": "Twee bedrijven doen mee", "version": 1},
                facilitator_id=facilitator.account["id"], follow_up=True)
    built = agenda.build(db, closed, 2)
    assert built["followup"] is True and built["workshop"]["closed"] is True
    assert (built["actions"][0]["status"], built["actions"][0]["progress"]) == ("started", "Twee bedrijven doen mee")
    second = agenda.export_draft(db, closed)
    assert second["version"] == first["version"] + 1
    assert agenda.drafts(db, closed)[0]["changes"]["progress"] == ["Leerrecht"]
    with pytest.raises(Invalid):
        action.edit(db, closed, made["id"], {"status": "finished", "version": 2},
                    facilitator_id=facilitator.account["id"], follow_up=True)


def test_texts_collide_like_actions(db, room):
    workshop, _, anna, bram = room
    texts.save(db, workshop, "vision", {"body": "Anna's vision", "version": 0}, participant_id=anna["id"])
    with pytest.raises(editing.Conflict) as collided:
        texts.save(db, workshop, "vision", {"body": "Bram's vision", "version": 0}, participant_id=bram["id"])
    assert (collided.value.current["body"], collided.value.mine["body"]) == ("Anna's vision", "Bram's vision")
    merged = texts.save(db, workshop, "vision", {"body": "Anna's and Bram's vision", "version": 1},
                        participant_id=bram["id"])
    assert merged["version"] == 2
    bodies = [e["snapshot"]["body"] for e in editing.history(db, workshop, texts.subject("vision"))]
    assert bodies == ["Anna's and Bram's vision", "Anna's vision"]


def test_the_agenda_numbers_actions_and_fills_the_matrix(db, room):
    workshop, recommendation, anna, bram = room
    first = action.propose(db, workshop, _form(recommendation, what="Een", starts="2027-Q1", ends="2027-Q4"))
    second = action.propose(db, workshop, _form(recommendation, what="Twee"))
    action.rate(db, workshop, first["id"], anna["id"], {"impact": 5, "effort": 2})
    action.volunteer(db, workshop, second["id"], bram["id"], "partner")
    built = agenda.build(db, workshop, 1)
    assert [(a["number"], a["what"], a["quadrant"]) for a in built["actions"]] == [
        (1, "Een", "quick_win"), (2, "Twee", None)]
    assert built["actions"][0]["timing"] == "Q1 2027 – Q4 2027"
    assert built["actions"][1]["volunteers"] == [{"organisation": "ROC", "role": "partner", "role_label": "partner"}]
    quadrants = {q["key"]: q["actions"] for q in built["matrix"]["quadrants"]}
    assert quadrants == {"quick_win": [1], "major_project": [], "fill_in": [], "reconsider": []}
    assert built["matrix"]["unrated"] == [2]


def test_an_action_moved_to_another_recommendation_is_a_change(db, room):
    workshop, recommendation, *_ = room
    other = workshops.items(db, workshop, kinds=("recommendation",))[1]
    workshops.set_adopted(db, workshop, other["id"], True)
    moved = action.propose(db, workshop, _form(recommendation, what="Verhuist"))
    before = agenda.snapshot(agenda.build(db, workshop, 1))
    action.edit(db, workshop, moved["id"], {**action.get(db, workshop, moved["id"]), "recommendation_id": other["id"]})
    after = agenda.snapshot(agenda.build(db, workshop, 2))
    assert agenda.changes(before, after)["changed"] == ["Verhuist"]
    # A draft that did not yet remember the recommendation does not call every action changed.
    older = {**before, "actions": {uid: {k: v for k, v in fields.items() if k != "recommendation"}
                                   for uid, fields in before["actions"].items()}}
    assert agenda.changes(older, before)["changed"] == []


def test_the_second_draft_says_what_changed(db, room):
    workshop, recommendation, anna, _ = room
    kept = action.propose(db, workshop, _form(recommendation, what="Blijft"))
    gone = action.propose(db, workshop, _form(recommendation, what="Verdwijnt"))
    first = agenda.export_draft(db, workshop)
    assert agenda.drafts(db, workshop)[0]["changes"] is None
    action.edit(db, workshop, kept["id"], _form(recommendation, what="Blijft", lead="Saxion", version=1))
    action.remove(db, workshop, gone["id"])
    action.propose(db, workshop, _form(recommendation, what="Nieuw"))
    agenda.export_draft(db, workshop)
    changes = agenda.drafts(db, workshop)[0]["changes"]
    assert changes["since"] == first["version"]
    assert (changes["added"], changes["changed"], changes["removed"]) == (["Nieuw"], ["Blijft"], ["Verdwijnt"])
