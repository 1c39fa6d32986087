"""Comments: once per form, with their author as the room may see them, hidden when the facilitator says."""
import pytest
from conftest import person

from toolkit import comment
from toolkit import workshop as workshops
from toolkit.validation import Invalid, NotFound


@pytest.fixture
def workshop(workshop, db):
    """The room is at the drivers step: participants comment on the current step's items."""
    workshops.set_step(db, workshop["id"], "drivers")
    return workshops.get(db, workshop["id"])



def _drivers(db, workshop):
    return workshops.items(db, workshop, kinds=("driver",))


def test_a_resent_comment_form_adds_one_comment(db, workshop):
    me = person(db, workshop)
    driver = _drivers(db, workshop)[0]
    form = {"body": "  Vooral bij kleine bedrijven.  ", "request_token": "t1"}
    first = comment.add(db, workshop, driver["id"], form, me["id"])
    again = comment.add(db, workshop, str(driver["id"]), form, me["id"])
    assert again == first
    assert first["body"] == "Vooral bij kleine bedrijven."
    assert first["item_id"] == driver["id"] and first["hidden"] is False
    assert (first["name"], first["organisation"], first["stakeholder_group"]) == ("Pat", "Acme", "companies")
    assert db["comments"].count == 1
    # The same token with other words is the form reused after Back: a new comment.
    other = comment.add(db, workshop, driver["id"], {**form, "body": "En in de zorg."}, me["id"])
    assert other["id"] != first["id"]
    assert [c["body"] for c in comment.for_items(db, workshop)[driver["id"]]] == [
        "Vooral bij kleine bedrijven.", "En in de zorg."]


@pytest.mark.parametrize("body", ["", "   ", "x" * 1001])
def test_a_comment_needs_a_body_of_at_most_1000_characters(db, workshop, body):
    driver = _drivers(db, workshop)[0]
    with pytest.raises(Invalid) as error:
        comment.add(db, workshop, driver["id"], {"body": body})
    assert error.value.field == "body"
    assert db["comments"].count == 0
    assert comment.add(db, workshop, driver["id"], {"body": "x" * 1000})["body"] == "x" * 1000


def test_the_author_shows_as_the_room_may_see_them(db, workshop):
    me = person(db, workshop, "education", "Sam")
    driver = _drivers(db, workshop)[0]
    comment.add(db, workshop, driver["id"], {"body": "Mine"}, me["id"])
    comment.add(db, workshop, driver["id"], {"body": "The facilitator's"})
    mine, facilitators = comment.for_items(db, workshop)[driver["id"]]
    assert (mine["name"], mine["organisation"], mine["stakeholder_group"]) == ("Sam", "Acme", "education")
    assert (facilitators["name"], facilitators["organisation"], facilitators["stakeholder_group"]) == (
        None, None, None)
    # Made anonymous after people joined: names disappear from what was already said.
    workshops.update(db, workshop["id"], {**workshop, "anonymous": "on"})
    mine = comment.for_items(db, workshop)[driver["id"]][0]
    assert (mine["name"], mine["organisation"]) == (None, "Acme")


def test_a_hidden_comment_is_left_out_until_shown_again(db, workshop):
    first, second = _drivers(db, workshop)[:2]
    kept = comment.add(db, workshop, first["id"], {"body": "Kept"})
    hidden = comment.add(db, workshop, first["id"], {"body": "Rude"})
    elsewhere = comment.add(db, workshop, second["id"], {"body": "Elsewhere"})
    assert comment.set_hidden(db, workshop, hidden["id"], True)["hidden"] is True
    assert comment.for_items(db, workshop) == {first["id"]: [kept], second["id"]: [elsewhere]}
    everything = comment.for_items(db, workshop, include_hidden=True)
    assert [c["body"] for c in everything[first["id"]]] == ["Kept", "Rude"]
    assert [c["body"] for c in comment.for_workshop(db, workshop)] == ["Kept", "Elsewhere"]
    comment.set_hidden(db, workshop, hidden["id"], False)
    assert [c["body"] for c in comment.for_items(db, workshop)[first["id"]]] == ["Kept", "Rude"]


def test_the_annex_lists_visible_comments_in_the_items_order_with_their_titles(db, workshop):
    first, second = _drivers(db, workshop)[:2]
    comment.add(db, workshop, second["id"], {"body": "On the second"})
    comment.add(db, workshop, first["id"], {"body": "On the first"})
    workshops.set_hidden(db, workshop, second["id"], True)
    annex = comment.for_workshop(db, workshop)
    assert [(c["item_title"], c["body"], c["item_hidden"]) for c in annex] == [
        (first["title"], "On the first", False), (second["title"], "On the second", True)]


def test_hidden_items_and_other_workshops_ids_take_no_comments(db, workshop, facilitator):
    first, second = _drivers(db, workshop)[:2]
    workshops.set_hidden(db, workshop, second["id"], True)
    with pytest.raises(NotFound):
        comment.add(db, workshop, second["id"], {"body": "Too late"})
    other = workshops.create(db, facilitator.account["id"], {**workshop, "dots": 5})
    foreign_item = _drivers(db, other)[0]
    with pytest.raises(NotFound):
        comment.add(db, workshop, foreign_item["id"], {"body": "Wrong room"})
    foreign = comment.add(db, other, foreign_item["id"], {"body": "Theirs"})
    for made_up in (foreign["id"], "abc", -1, 2**70):
        with pytest.raises(NotFound):
            comment.set_hidden(db, workshop, made_up, True)
    assert comment.get(db, other, foreign["id"])["hidden"] is False
    assert comment.for_items(db, workshop) == {}
    assert comment.for_workshop(db, workshop) == []
