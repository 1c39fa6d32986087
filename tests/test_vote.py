"""Dot voting: the budget holds whatever arrives, and the tallies are exactly what was cast."""
import threading

import pytest
from conftest import at_step, person
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit import participant, vote
from toolkit import workshop as workshops
from toolkit.db import connect
from toolkit.validation import Invalid, NotFound




def test_setting_dots_is_idempotent(db, workshop):
    workshop = at_step(db, workshop, "drivers")
    me = person(db, workshop)
    driver = workshops.items(db, workshop, kinds=("driver",))[0]
    for _ in range(3):  # a double click or a retried request sends the same number again
        result = vote.set_dots(db, workshop, me["id"], driver["id"], 2)
    assert result == {"item": driver, "dots": 2, "before": 2, "left": 3}  # the resend found its own 2
    assert vote.tallies(db, workshop)[driver["id"]]["total"] == 2


def test_dots_can_be_taken_back(db, workshop):
    workshop = at_step(db, workshop, "drivers")
    me = person(db, workshop)
    driver = workshops.items(db, workshop, kinds=("driver",))[0]
    vote.set_dots(db, workshop, me["id"], driver["id"], 3)
    vote.set_dots(db, workshop, me["id"], driver["id"], 0)
    assert vote.tallies(db, workshop) == {}
    assert vote.dots_used(db, workshop, me["id"], "drivers") == 0


def test_the_budget_cannot_be_exceeded(db, workshop):
    workshop = at_step(db, workshop, "drivers")
    me = person(db, workshop)
    first, second, _third = workshops.items(db, workshop, kinds=("driver",))
    vote.set_dots(db, workshop, me["id"], first["id"], 4)
    with pytest.raises(Invalid):
        vote.set_dots(db, workshop, me["id"], second["id"], 2)
    assert vote.dots_used(db, workshop, me["id"], "drivers") == 4
    vote.set_dots(db, workshop, me["id"], second["id"], 1)
    assert vote.dots_used(db, workshop, me["id"], "drivers") == 5


def test_each_step_has_its_own_budget(db, workshop):
    workshop = at_step(db, workshop, "drivers")
    me = person(db, workshop)
    vote.set_dots(db, workshop, me["id"], workshops.items(db, workshop, kinds=("driver",))[0]["id"], 5)
    workshop = at_step(db, workshop, "recommendations")
    recommendation = workshops.items(db, workshop, kinds=("recommendation",))[0]
    assert vote.set_dots(db, workshop, me["id"], recommendation["id"], 5)["left"] == 0


def test_a_lower_budget_never_strands_placed_dots(db, workshop):
    workshop = at_step(db, workshop, "drivers")
    me = person(db, workshop)
    vote.set_dots(db, workshop, me["id"], workshops.items(db, workshop, kinds=("driver",))[0]["id"], 4)
    with pytest.raises(Invalid):
        workshops.update(db, workshop["id"], {**workshop, "dots": "3"})
    assert workshops.update(db, workshop["id"], {**workshop, "dots": "4"})["dots"] == 4


def test_only_the_current_steps_items_take_votes(db, workshop):
    workshop = at_step(db, workshop, "recommendations")
    me = person(db, workshop)
    driver = workshops.items(db, workshop, kinds=("driver",))[0]
    with pytest.raises(Invalid):
        vote.set_dots(db, workshop, me["id"], driver["id"], 1)


def test_hidden_items_and_other_workshops_items_take_no_votes(db, workshop, facilitator):
    workshop = at_step(db, workshop, "drivers")
    me = person(db, workshop)
    driver = workshops.items(db, workshop, kinds=("driver",))[0]
    vote.set_dots(db, workshop, me["id"], driver["id"], 2)
    workshops.set_hidden(db, workshop, driver["id"], True)
    with pytest.raises(Invalid):
        vote.set_dots(db, workshop, me["id"], driver["id"], 3)
    # Dots on a hidden item still count, and can be taken back.
    assert vote.dots_used(db, workshop, me["id"], "drivers") == 2
    assert vote.set_dots(db, workshop, me["id"], driver["id"], 1)["left"] == 4
    other = workshops.create(db, facilitator.account["id"], {**workshop, "dots": 5})
    other = at_step(db, other, "drivers")
    foreign = workshops.items(db, other, kinds=("driver",))[0]
    with pytest.raises(NotFound):
        vote.set_dots(db, workshop, me["id"], foreign["id"], 1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2), st.integers(-2, 8)), max_size=40))
def test_tallies_equal_the_votes_cast_and_budgets_hold(db, workshop, moves):
    """Random people set random dots on random drivers; the tallies follow a simple model."""
    db.execute("DELETE FROM participants")
    workshop = at_step(db, workshop, "drivers")
    groups = participant.GROUP_KEYS
    people = [person(db, workshop, groups[i % len(groups)], f"P{i}") for i in range(4)]
    drivers = workshops.items(db, workshop, kinds=("driver",))
    model = {}
    for who, which, dots in moves:
        key = (who, which)
        others = sum(d for (w, i), d in model.items() if w == who and i != which)
        try:
            vote.set_dots(db, workshop, people[who]["id"], drivers[which]["id"], dots)
        except Invalid:
            assert dots < 0 or dots > workshop["dots"] or others + dots > workshop["dots"]
            continue
        assert 0 <= dots and others + dots <= workshop["dots"]
        model[key] = dots
    tallies = vote.tallies(db, workshop)
    for which, driver in enumerate(drivers):
        expected = sum(d for (w, i), d in model.items() if i == which)
        tally = tallies.get(driver["id"], vote.empty_tally())
        assert tally["total"] == expected
        assert tally["voters"] == sum(1 for (w, i), d in model.items() if i == which and d > 0)
        for group in groups:
            assert tally["by_group"][group] == sum(
                d for (w, i), d in model.items() if i == which and groups[w % len(groups)] == group)
    for someone in people:
        assert vote.dots_used(db, workshop, someone["id"], "drivers") <= workshop["dots"]


def test_budget_holds_under_concurrent_writers(app, db, workshop):
    """Threads on their own connections race to spend one person's dots: never more than the budget."""
    workshop = at_step(db, workshop, "barriers")
    me = person(db, workshop)
    items = workshops.items(db, workshop, kinds=("barrier", "success_factor"))
    accepted, errors = [], []

    def spend(item):
        conn = connect(app.config["DATABASE"])
        try:
            for dots in (1, 2, 3):
                try:
                    vote.set_dots(conn, workshop, me["id"], item["id"], dots)
                    accepted.append((item["id"], dots))
                except Invalid:
                    pass
        except Exception as error:  # anything but a budget refusal is a failure
            errors.append(error)
        finally:
            conn.close()

    threads = [threading.Thread(target=spend, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert accepted
    assert vote.dots_used(db, workshop, me["id"], "barriers") <= workshop["dots"]
    stored = {row["item_id"]: row["dots"] for row in db.query("SELECT * FROM votes")}
    last = {}
    for item_id, dots in accepted:
        last[item_id] = dots
    assert stored == last
