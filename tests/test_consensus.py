"""Consensus across stakeholder groups: shares of each group's voters, and the verdict."""
import pytest

from toolkit import consensus, participant, vote
from toolkit import workshop as workshops


@pytest.mark.parametrize("shares,expected", [
    ({"companies": 1.0, "education": 0.9, "government": None}, "agree"),
    ({"companies": 1.0, "education": 0.6}, "differ"),
    ({"companies": 1.0, "education": 0.0, "workers": 0.5}, "diverge"),
    ({"companies": 1.0, "education": None}, "too_few"),
])
def test_verdict(shares, expected):
    assert consensus.verdict(shares)[0] == expected


def test_support_counts_each_groups_voters(db, workshop):
    workshops.set_step(db, workshop["id"], "drivers")
    workshop = workshops.get(db, workshop["id"])
    first, second, _ = workshops.items(db, workshop, kinds=("driver",))
    people = {}
    for name, group in (("a", "companies"), ("b", "companies"), ("c", "education"), ("d", "education")):
        people[name] = participant.join(db, workshop, {"name": name, "organisation": "o", "stakeholder_group": group})
    vote.set_dots(db, workshop, people["a"]["id"], first["id"], 3)
    vote.set_dots(db, workshop, people["b"]["id"], first["id"], 1)
    vote.set_dots(db, workshop, people["c"]["id"], second["id"], 2)
    vote.set_dots(db, workshop, people["d"]["id"], first["id"], 1)
    found = consensus.support(db, workshop, "drivers")
    assert found[first["id"]]["by_group"]["companies"] == 1.0
    assert found[first["id"]]["by_group"]["education"] == 0.5
    assert found[first["id"]]["by_group"]["government"] is None
    assert found[first["id"]]["verdict"] == "diverge"
    assert found[second["id"]]["by_group"] == {"companies": 0.0, "education": 0.5, "government": None,
                                               "workers": None, "other": None}
