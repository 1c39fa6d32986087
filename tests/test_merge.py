"""Merging duplicates: every supporter and every dot lands on the kept item, counted once."""
import pytest
from conftest import at_step, person
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit import comment, merge, participant, vote
from toolkit import workshop as workshops
from toolkit.db import writing
from toolkit.validation import Invalid, NotFound




def _drivers(db, workshop):
    return workshops.items(db, workshop, kinds=("driver",))


def test_a_merge_keeps_every_supporter_and_every_dot(db, workshop):
    workshop = at_step(db, workshop, "drivers")
    source, target, third = _drivers(db, workshop)
    both = person(db, workshop, "companies", "Both")
    only_source = person(db, workshop, "education", "Source")
    only_target = person(db, workshop, "government", "Target")
    vote.set_dots(db, workshop, both["id"], source["id"], 2)
    vote.set_dots(db, workshop, both["id"], target["id"], 1)
    vote.set_dots(db, workshop, both["id"], third["id"], 2)
    vote.set_dots(db, workshop, only_source["id"], source["id"], 3)
    vote.set_dots(db, workshop, only_target["id"], target["id"], 4)
    people = (both, only_source, only_target)
    used = {p["id"]: vote.dots_used(db, workshop, p["id"], "drivers") for p in people}
    before = vote.tallies(db, workshop)

    merged = merge.merge(db, workshop, source["id"], str(target["id"]))

    assert merged == workshops.item(db, workshop, target["id"])
    tallies = vote.tallies(db, workshop)
    assert source["id"] not in tallies
    assert tallies[third["id"]] == before[third["id"]]
    assert tallies[target["id"]] == {
        "total": before[source["id"]]["total"] + before[target["id"]]["total"],
        "voters": 3,  # the one who voted on both counts once
        "by_group": {"companies": 3, "education": 3, "government": 4, "workers": 0, "other": 0},
    }
    assert {p["id"]: vote.dots_used(db, workshop, p["id"], "drivers") for p in people} == used
    assert vote.my_dots(db, both["id"]) == {target["id"]: 3, third["id"]: 2}
    assert db.execute("SELECT count(*) FROM votes WHERE item_id = ?", [source["id"]]).fetchone()[0] == 0
    # The source is gone from the room, remembered as merged, and takes no more dots.
    assert source["id"] not in {item["id"] for item in _drivers(db, workshop)}
    row = db["items"].get(source["id"])
    assert (row["hidden"], row["merged_into"]) == (1, target["id"])
    with pytest.raises(Invalid):
        vote.set_dots(db, workshop, only_source["id"], source["id"], 1)
    # Budgets are as spent: a full budget stays full.
    with pytest.raises(Invalid):
        vote.set_dots(db, workshop, both["id"], target["id"], 4)


def test_items_of_one_step_of_different_kinds_can_be_merged(db, workshop):
    barrier = workshops.items(db, workshop, kinds=("barrier",))[0]
    success_factor = workshops.items(db, workshop, kinds=("success_factor",))[0]
    assert merge.merge(db, workshop, barrier["id"], success_factor["id"])["id"] == success_factor["id"]


def test_only_items_of_one_step_merge_and_never_into_themselves(db, workshop, facilitator):
    first, second, third = _drivers(db, workshop)
    recommendation = workshops.items(db, workshop, kinds=("recommendation",))[0]
    barrier = workshops.items(db, workshop, kinds=("barrier",))[0]
    for source, target in ((first, recommendation), (barrier, first), (first, first)):
        with pytest.raises(Invalid) as error:
            merge.merge(db, workshop, source["id"], target["id"])
        assert error.value.field == "target_id"
    merge.merge(db, workshop, first["id"], second["id"])
    with pytest.raises(Invalid) as error:
        merge.merge(db, workshop, first["id"], third["id"])
    assert error.value.field == "source_id"
    with pytest.raises(Invalid) as error:  # into a merged item would strand the dots out of sight
        merge.merge(db, workshop, third["id"], first["id"])
    assert error.value.field == "target_id"
    other = workshops.create(db, facilitator.account["id"], {**workshop, "dots": 5})
    foreign = _drivers(db, other)[0]
    for source_id, target_id in ((foreign["id"], third["id"]), (third["id"], foreign["id"]),
                                 ("abc", third["id"]), (third["id"], 2**70)):
        with pytest.raises(NotFound):
            merge.merge(db, workshop, source_id, target_id)
    assert db["items"].get(third["id"])["merged_into"] is None
    assert db["items"].get(foreign["id"])["merged_into"] is None


def test_a_refused_merge_changes_nothing(db, workshop):
    workshop = at_step(db, workshop, "drivers")
    driver = _drivers(db, workshop)[0]
    recommendation = workshops.items(db, workshop, kinds=("recommendation",))[0]
    me = person(db, workshop)
    vote.set_dots(db, workshop, me["id"], driver["id"], 2)
    comment.add(db, workshop, driver["id"], {"body": "Stays"})
    with pytest.raises(Invalid):
        merge.merge(db, workshop, driver["id"], recommendation["id"])
    assert vote.my_dots(db, me["id"]) == {driver["id"]: 2}
    assert list(comment.for_items(db, workshop)) == [driver["id"]]
    assert not db.conn.in_transaction


def test_comments_follow_the_merge(db, workshop):
    source, target, _third = _drivers(db, workshop)
    old = comment.add(db, workshop, target["id"], {"body": "Already on target"})
    moved = comment.add(db, workshop, source["id"], {"body": "From the duplicate"})
    hidden = comment.add(db, workshop, source["id"], {"body": "Hidden, and stays hidden"})
    comment.set_hidden(db, workshop, hidden["id"], True)
    merge.merge(db, workshop, source["id"], target["id"])
    assert comment.for_items(db, workshop) == {
        target["id"]: [old, {**moved, "item_id": target["id"]}]}
    everything = comment.for_items(db, workshop, include_hidden=True)[target["id"]]
    assert [(c["body"], c["hidden"]) for c in everything] == [
        ("Already on target", False), ("From the duplicate", False), ("Hidden, and stays hidden", True)]
    with pytest.raises(NotFound):  # the merged item takes no new comments
        comment.add(db, workshop, source["id"], {"body": "Late"})


def test_the_room_items_can_be_reworded(db, workshop):
    own = workshops.add_item(db, workshop, {"title": "Tekort aan tecnici"}, ("driver",))
    edited = merge.edit(db, workshop, own["id"], {"title": " Tekort aan technici ",
                                                    "explanation": "Vooral mbo-niveau."})
    assert (edited["title"], edited["explanation"]) == ("Tekort aan technici", "Vooral mbo-niveau.")
    assert workshops.item(db, workshop, own["id"]) == edited
    workshops.set_hidden(db, workshop, own["id"], True)
    assert merge.edit(db, workshop, own["id"], {"title": "Still editable"})["title"] == "Still editable"


def test_study_items_keep_their_wording(db, workshop):
    study = _drivers(db, workshop)[0]
    with pytest.raises(Invalid) as error:
        merge.edit(db, workshop, study["id"], {"title": "Mine now"})
    assert error.value.message == "Study items keep the study's wording."
    assert workshops.item(db, workshop, study["id"]) == study


@pytest.mark.parametrize("form, field", [
    ({"title": ""}, "title"),
    ({"title": "x" * (workshops.MAX_TITLE + 1)}, "title"),
    ({"title": "ok", "explanation": "x" * (workshops.MAX_EXPLANATION + 1)}, "explanation"),
])
def test_an_edit_keeps_the_length_limits(db, workshop, form, field):
    own = workshops.add_item(db, workshop, {"title": "Original"}, ("driver",))
    with pytest.raises(Invalid) as error:
        merge.edit(db, workshop, own["id"], form)
    assert error.value.field == field
    assert workshops.item(db, workshop, own["id"])["title"] == "Original"


def test_other_workshops_items_cannot_be_edited(db, workshop, facilitator):
    other = workshops.create(db, facilitator.account["id"], {**workshop, "dots": 5})
    theirs = workshops.add_item(db, other, {"title": "Theirs"}, ("driver",))
    with pytest.raises(NotFound):
        merge.edit(db, workshop, theirs["id"], {"title": "Mine"})
    assert workshops.item(db, other, theirs["id"])["title"] == "Theirs"


# Dots on two drivers within a five-dot budget: the second never more than what is left.
_BALLOT = st.tuples(st.integers(0, 5), st.integers(0, 5)).map(lambda d: (d[0], min(d[1], 5 - d[0])))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ballots=st.lists(_BALLOT, min_size=4, max_size=4), backwards=st.booleans())
def test_a_merge_adds_up_like_a_simple_model(db, workshop, ballots, backwards):
    """Four people place random dots on two drivers; after a merge the tallies follow a model."""
    with writing(db):  # the fixture's database is shared by every example: start clean
        db.execute("DELETE FROM participants")
        db.execute("UPDATE items SET hidden = 0, merged_into = NULL")
    workshop = at_step(db, workshop, "drivers")
    groups = participant.GROUP_KEYS
    people = [person(db, workshop, groups[i % len(groups)], f"P{i}") for i in range(4)]
    first, second = _drivers(db, workshop)[:2]
    source, target = (second, first) if backwards else (first, second)
    for someone, (on_first, on_second) in zip(people, ballots):
        vote.set_dots(db, workshop, someone["id"], first["id"], on_first)
        vote.set_dots(db, workshop, someone["id"], second["id"], on_second)

    merge.merge(db, workshop, source["id"], target["id"])

    tally = vote.tallies(db, workshop).get(target["id"], vote.empty_tally())
    assert source["id"] not in vote.tallies(db, workshop)
    assert tally["total"] == sum(a + b for a, b in ballots)
    assert tally["voters"] == sum(1 for a, b in ballots if a + b > 0)
    for group in groups:
        assert tally["by_group"][group] == sum(
            a + b for i, (a, b) in enumerate(ballots) if groups[i % len(groups)] == group)
    for someone, (a, b) in zip(people, ballots):
        assert vote.dots_used(db, workshop, someone["id"], "drivers") == a + b
        assert vote.my_dots(db, someone["id"]) == ({target["id"]: a + b} if a + b else {})


def test_an_adopted_recommendation_hands_its_place_and_actions_to_the_target(db, workshop):
    from toolkit import action, agenda

    recommendations = workshops.items(db, workshop, kinds=("recommendation",))
    source, target = recommendations[0], recommendations[1]
    workshops.set_adopted(db, workshop, source["id"], True)
    action.propose(db, workshop, {"recommendation_id": source["id"], "what": "Leerrecht", "lead": "FNV"})
    merge.merge(db, workshop, source["id"], target["id"])
    assert workshops.item(db, workshop, target["id"])["adopted"]
    assert [a["recommendation"] for a in agenda.build(db, workshop, 1)["actions"]] == [target["title"]]
    with pytest.raises(Invalid):
        workshops.set_hidden(db, workshop, source["id"], False)


def test_an_action_answering_a_duplicate_answers_the_kept_item(db, workshop):
    from toolkit import action, agenda

    recommendation = workshops.items(db, workshop, kinds=("recommendation",))[0]
    workshops.set_adopted(db, workshop, recommendation["id"], True)
    source, target = _drivers(db, workshop)[:2]
    made = action.propose(db, workshop, {"recommendation_id": recommendation["id"], "what": "Leerrecht",
                                         "answers_item_id": source["id"]})
    merge.merge(db, workshop, source["id"], target["id"])
    assert action.get(db, workshop, made["id"])["answers_item_id"] == target["id"]
    assert agenda.build(db, workshop, 1)["actions"][0]["why"] == target["title"]


def test_no_merge_into_a_hidden_item(db, workshop):
    first, second = workshops.items(db, workshop, kinds=("driver",))[:2]
    workshops.set_hidden(db, workshop, second["id"], True)
    with pytest.raises(Invalid):
        merge.merge(db, workshop, first["id"], second["id"])
