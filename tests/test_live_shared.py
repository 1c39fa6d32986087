"""The room's shared update: one rendering per revision for everyone whose own controls did not change."""
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import WORKSHOP_FORM, at_step, join, person
from toolkit import step as steps
from toolkit import workshop as workshops

POLLER = re.compile(r'hx-get="([^"]*/live\?[^"]*)"')


def _poll_url(page: str) -> str:
    return POLLER.search(page).group(1).replace("&amp;", "&")


def _room(app, db, workshop):
    workshop = at_step(db, workshop, "drivers")
    steps.set_revealed(db, workshop, "drivers", True)
    anna, bram = join(app, workshop, name="Anna"), join(app, workshop, name="Bram", organisation="ROC")
    pages = {who: browser.get(f"/w/{workshop['code']}").get_data(as_text=True) for who, browser in
             (("anna", anna), ("bram", bram))}
    return workshop, anna, bram, pages


def test_a_vote_reaches_the_others_as_the_same_shared_update(app, db, workshop):
    workshop, anna, bram, pages = _room(app, db, workshop)
    item = workshops.items(db, workshop, ("driver",))[0]
    assert anna.post(f"/w/{workshop['code']}/items/{item['id']}/dots", {"dots": "2"}, htmx=True).status_code == 200
    headers = {"HX-Request": "true"}
    seen = [browser.get(_poll_url(pages[who]), headers=headers) for who, browser in (("anna", anna), ("bram", bram))]
    assert [r.status_code for r in seen] == [200, 200]
    first, second = (r.get_data(as_text=True) for r in seen)
    assert first == second  # one rendering, served to both
    assert 'id="result-%d" hx-swap-oob="true"' % item["id"] in first
    assert "Totaal: 2" in first or "Total: 2" in first
    # Nothing personal travels in it: no form, no token, no one's own dots.
    assert "csrf_token" not in first and "<form" not in first and 'id="vote-area"' not in first


def test_a_change_to_the_controls_brings_each_their_own_update(app, db, workshop):
    workshop, anna, bram, pages = _room(app, db, workshop)
    steps.set_locked(db, workshop, "drivers", True)
    update = anna.get(_poll_url(pages["anna"]), headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="vote-area" hx-swap-oob="true"' in update and "csrf_token" in update


def test_the_shared_update_moves_the_page_on_to_the_new_revision(app, db, workshop):
    workshop, anna, bram, pages = _room(app, db, workshop)
    item = workshops.items(db, workshop, ("driver",))[0]
    said = bram.post(f"/w/{workshop['code']}/items/{item['id']}/comments", {"body": "Mee eens", "request_token": "c"})
    assert said.status_code == 303, said.get_data(as_text=True)[-800:]
    update = anna.get(_poll_url(pages["anna"]), headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Mee eens" in update
    revision = workshops.get(db, workshop["id"])["revision"]
    assert anna.get(_poll_url(update), headers={"HX-Request": "true"}).status_code == 204
    assert f"rev={revision}" in _poll_url(update)


def test_personal_updates_share_the_room_s_part_and_draw_only_one_s_own(app, db, workshop, monkeypatch):
    from toolkit.web import views

    workshop, anna, bram, pages = _room(app, db, workshop)
    first, second = workshops.items(db, workshop, ("driver",))[:2]
    anna.post(f"/w/{workshop['code']}/items/{first['id']}/dots", {"dots": "2"}, htmx=True)
    bram.post(f"/w/{workshop['code']}/items/{second['id']}/comments", {"body": "Eens", "request_token": "c"})
    # A timer changes everyone's controls: each gets their own update, around one rendering
    # of the room's part at this revision.
    steps.start_timer(db, workshop, "drivers", 2)
    built = []
    monkeypatch.setattr(views.Room, "__init__", lambda self, *a, _init=views.Room.__init__: (
        built.append(a), _init(self, *a))[1])
    headers = {"HX-Request": "true"}
    updates = {who: browser.get(_poll_url(pages[who]), headers=headers).get_data(as_text=True)
               for who, browser in (("anna", anna), ("bram", bram))}
    assert len(built) == 1
    assert all('id="vote-area" hx-swap-oob="true"' in update and 'id="timer"' in update for update in updates.values())
    # The room's part is the same for both; the controls and the comment forms are each their own.
    assert updates["anna"].count("Eens") == updates["bram"].count("Eens") == 1
    assert re.search(f'id="minus-{first["id"]}" class="dot-button" aria-disabled="false"', updates["anna"])
    assert re.search(f'id="minus-{first["id"]}" class="dot-button" aria-disabled="true"', updates["bram"])
    assert f'id="comment-form-{second["id"]}-1"' in updates["bram"]
    assert f'id="comment-form-{second["id"]}-0"' in updates["anna"]


def test_one_s_own_comment_shows_in_the_answer_to_it(app, db, workshop):
    workshop, anna, bram, pages = _room(app, db, workshop)
    item = workshops.items(db, workshop, ("driver",))[0]
    # Anna's page drew the room's part at this revision; her comment moves it on, and the answer shows it.
    answer = anna.post(f"/w/{workshop['code']}/items/{item['id']}/comments",
                       {"body": "Mijn eigen opmerking", "request_token": "a"}, htmx=True).get_data(as_text=True)
    assert "Mijn eigen opmerking" in answer
    assert f'id="comment-form-{item["id"]}-1"' in answer


def test_a_new_item_is_added_to_each_page_with_its_own_controls(app, db, workshop):
    workshop, anna, bram, pages = _room(app, db, workshop)
    first = workshops.items(db, workshop, ("driver",))[0]
    for dots in range(1, 6):  # Anna spends all her dots
        anna.post(f"/w/{workshop['code']}/items/{first['id']}/dots", {"dots": str(dots)}, htmx=True)
    bram.post(f"/w/{workshop['code']}/items", {"title": "Tekort aan technici", "explanation": ""})
    new = workshops.items(db, workshop, ("driver",))[-1]
    headers = {"HX-Request": "true"}
    updates = {who: browser.get(_poll_url(pages[who]), headers=headers).get_data(as_text=True)
               for who, browser in (("anna", anna), ("bram", bram))}
    for who, update in updates.items():
        # Only the new item is drawn for the page, added at the end of its list, then the room's update.
        assert 'hx-swap-oob="beforeend:#items-list"' in update and 'id="vote-area"' not in update
        assert update.count('<li class="item') == 1 and f'id="item-{new["id"]}"' in update
        assert f'id="comment-form-{new["id"]}-0"' in update and "Tekort aan technici" in update
        assert f'id="result-{first["id"]}" hx-swap-oob="true"' in update  # the room's results come along
    # Each with their own "+": Anna has no dots left, Bram has all of his.
    assert f'id="plus-{new["id"]}" class="dot-button"\n              aria-disabled="true"' in updates["anna"]
    assert f'id="plus-{new["id"]}" class="dot-button"\n              aria-disabled="false"' in updates["bram"]
    # The page then asks from the new list, and is up to date.
    after = _poll_url(updates["bram"])
    assert f"upto={new['id']}" in after and bram.get(after, headers=headers).status_code == 204
    whole = bram.get(re.sub(r"upto=\d+", "upto=", _poll_url(pages["bram"])), headers=headers)
    assert len(updates["bram"]) < len(whole.get_data(as_text=True)) / 2


def test_a_page_that_missed_more_than_new_items_gets_its_whole_area(app, db, workshop):
    workshop, anna, bram, pages = _room(app, db, workshop)
    bram.post(f"/w/{workshop['code']}/items", {"title": "Tekort aan technici", "explanation": ""})
    steps.start_timer(db, workshop, "drivers", 2)
    update = anna.get(_poll_url(pages["anna"]), headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="vote-area" hx-swap-oob="true"' in update and "Tekort aan technici" in update
    assert "beforeend" not in update


# What changes an item's drawing in the room: its votes, comments, hiding, the step's settings.
ROOM_CHANGES = st.lists(st.one_of(
    st.tuples(st.just("vote"), st.integers(0, 2), st.integers(0, 3), st.integers(0, 2)),
    st.tuples(st.just("comment"), st.integers(0, 2), st.integers(0, 3), st.sampled_from(["Eens", "<b>Oneens</b>"])),
    st.tuples(st.just("hide comment"), st.integers(0, 5), st.booleans()),
    st.tuples(st.just("hide item"), st.integers(0, 3), st.booleans()),
    st.tuples(st.just("reveal"), st.booleans()),
    st.tuples(st.just("named"), st.booleans()),
    st.tuples(st.just("add item"), st.sampled_from(["Tekort aan technici", "Robots & mensen"])),
), min_size=1, max_size=12)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=ROOM_CHANGES)
def test_items_drawn_at_an_earlier_revision_are_kept_only_while_they_still_hold(app, db, workshop, changes):
    from toolkit import comment, vote
    from toolkit.validation import Invalid, NotFound
    from toolkit.web import views

    workshop = at_step(db, workshops.create(db, workshop["facilitator_id"], {**WORKSHOP_FORM, "title": "Eigen"}),
                       "drivers")
    people = [person(db, workshop, name=f"P{i}", organisation=f"Org {i}")["id"] for i in range(3)]
    with app.test_request_context(f"/w/{workshop['code']}/live"):
        app.preprocess_request()
        for change in changes:
            listed = workshops.items(db, workshop, ("driver",), include_hidden=True)
            kind, *args = change
            try:
                if kind == "vote":
                    vote.set_dots(db, workshop, people[args[0]], listed[args[1] % len(listed)]["id"], args[2])
                elif kind == "comment":
                    comment.add(db, workshop, listed[args[1] % len(listed)]["id"], {"body": args[2]}, people[args[0]])
                elif kind == "hide comment":
                    said = comment.for_workshop(db, workshop)
                    if said:
                        comment.set_hidden(db, workshop, said[args[0] % len(said)]["id"], args[1])
                elif kind == "hide item":
                    workshops.set_hidden(db, workshop, listed[args[0] % len(listed)]["id"], args[1])
                elif kind == "reveal":
                    steps.set_revealed(db, workshop, "drivers", args[0])
                elif kind == "named":
                    steps.configure(db, workshop, "drivers", {"method": "dots", "named_votes": "1" if args[0] else ""})
                else:
                    workshops.add_item(db, workshop, {"title": args[0]}, ("driver",), people[0])
            except (Invalid, NotFound):
                continue  # over budget, or on a hidden item: the room did not change
            now = workshops.get(db, workshop["id"])
            seen = views.room(db, now, "drivers")
            kept = (seen.update(), seen.pieces())
            # The same revision drawn with nothing kept from before.
            views._drawings.clear()
            views._rooms.clear()
            fresh = views.room(db, now, "drivers")
            assert kept == (fresh.update(), fresh.pieces())



# What a participant's own controls and comment form are drawn from, and the values each may take.
OWN_VALUES = {
    "dots": [0, 1, 4], "left": [-1, 0, 2], "locked": [False, True], "method": ["dots", "points"], "cap": [0, 1, 3],
    "hidden": [False, True], "title": ["Robots", "Robots & <mensen>"], "comments": [0, 2], "me": [True, False],
    "list_only": [False, True], "oob": [False, True], "lang": ["nl", "en"], "error": [False, True],
}
TOKENS = re.compile(r'(name="(?:csrf_token|request_token)" value=")[^"]*"')


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(state=st.fixed_dictionaries({name: st.sampled_from(values) for name, values in OWN_VALUES.items()}))
def test_one_s_own_controls_kept_for_anyone_in_the_same_state_are_drawn_as_for_them_alone(app, workshop, state):
    from toolkit.web import views

    alone_template = app.jinja_env.from_string("{% include name %}")
    kept_template = app.jinja_env.from_string("{{ own(name, item, **flags) }}")

    def drawn_both_ways(state):
        # On the address the comment form is sent to: a form shown again with an error reads it.
        with app.test_request_context(f"/w/{workshop['code']}/items/7/comments", method="POST",
                                      headers={"Accept-Language": state["lang"]}):
            context = {
                "workshop": workshop, "left": state["left"], "mine": {7: state["dots"]},
                "my_comments": {7: state["comments"]}, "me": {"id": 1} if state["me"] else None,
                "rules": {"locked": state["locked"], "method": state["method"], "cap": state["cap"]},
                "list_only": state["list_only"], "error": "Te lang" if state["error"] else None,
                "form": {"body": "Wat ik typte"}, "item": {"id": 7, "title": state["title"], "hidden": state["hidden"]},
            }
            app.update_template_context(context)
            for name in views.OWN_PARTS:
                flags = {"oob": state["oob"]}
                alone = alone_template.render(context, name=name, **flags)
                kept = kept_template.render(context, name=name, flags=flags)
                assert TOKENS.sub(r"\1-", kept) == TOKENS.sub(r"\1-", alone), (name, state)
                assert 'value="<' not in kept  # every hole filled

    # Then each neighbouring state, one value changed: a key that left out what was changed would
    # give it this state's drawing.
    drawn_both_ways(state)
    for name, values in OWN_VALUES.items():
        for value in values:
            drawn_both_ways({**state, name: value})
