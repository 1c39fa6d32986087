"""Planning actions through the pages: editing together, collisions, history, ratings, follow-up."""
import html
import re

import pytest
from conftest import at_step, join

from toolkit import action, agenda, editing, texts
from toolkit import workshop as workshops


@pytest.fixture
def room(app, db, workshop):
    """A workshop at the actions step, one adopted recommendation, one action, two joined browsers."""
    recommendation = workshops.items(db, workshop, kinds=("recommendation",))[0]
    workshops.set_adopted(db, workshop, recommendation["id"], True)
    workshop = at_step(db, workshop, "actions")
    anna = join(app, workshop, "companies", "Anna", "Norma")
    bram = join(app, workshop, "education", "Bram", "ROC")
    made = action.propose(db, workshop, {"recommendation_id": recommendation["id"], "what": "Leerrecht",
                                         "lead": "FNV"}, participant_id=anna.participant_id)
    return workshop, recommendation, made, anna, bram


def _fields(page: str) -> dict:
    """The values an edit page's form would send."""
    values = {}
    for tag in re.findall(r"<input[^>]*>", page):
        found = re.search(r'name="([^"]+)"[^>]*value="([^"]*)"', tag)
        if found and ('type="radio"' not in tag or " checked" in tag):
            values[found.group(1)] = found.group(2)
    values.update(re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', page))
    values.update(re.findall(r'<select[^>]*name="([^"]+)".*?<option value="([^"]*)" selected', page, re.S))
    return {k: html.unescape(v) for k, v in values.items() if k != "csrf_token"}


def test_the_actions_step_shows_every_part_of_an_action(app, db, room, facilitator):
    workshop, recommendation, made, anna, _ = room
    action.edit(db, workshop, made["id"], {"recommendation_id": recommendation["id"], "what": "Leerrecht",
                                           "lead": "FNV", "first_step": "Overleg in februari", "starts": "2027-Q1",
                                           "version": 1}, participant_id=anna.participant_id)
    page = anna.get(f"/w/{workshop['code']}").get_data(as_text=True)
    for expected in ("Leerrecht", "FNV", "Overleg in februari", "vanaf Q1 2027", "/volunteer", "/rating", "/edit",
                     "/history"):
        assert expected in page
    assert facilitator.get(f"/facilitator/workshops/{workshop['code']}?step=actions").status_code == 200


def test_two_people_edit_the_same_action_and_the_second_sees_both(app, db, room):
    workshop, _, made, anna, bram = room
    url = f"/w/{workshop['code']}/actions/{made['id']}/edit"
    anna_form = _fields(anna.get(url).get_data(as_text=True))
    bram_form = _fields(bram.get(url).get_data(as_text=True))
    assert anna_form["version"] == bram_form["version"] == "1"
    assert anna.post(url, {**anna_form, "what": "Leerrecht van 40 uur"}).status_code == 303
    collided = bram.post(url, {**bram_form, "what": "Leerrecht voor iedereen"})
    page = collided.get_data(as_text=True)
    assert collided.status_code == 409
    assert "Leerrecht van 40 uur" in page and "Leerrecht voor iedereen" in page
    assert action.get(db, workshop, made["id"])["what"] == "Leerrecht van 40 uur"
    # Bram combines both and saves from the version the conflict view carries.
    settled = _fields(page)
    assert settled["version"] == "2"
    settled.update(what="Leerrecht van 40 uur voor iedereen", choose_what="mine")
    assert bram.post(url, settled).status_code == 303
    assert action.get(db, workshop, made["id"])["what"] == "Leerrecht van 40 uur voor iedereen"
    texts_on_record = [e["snapshot"].get("what") for e in editing.history(db, workshop, action.subject(made))]
    assert texts_on_record == ["Leerrecht van 40 uur voor iedereen", "Leerrecht van 40 uur", "Leerrecht"]


def test_keeping_theirs_in_the_conflict_view(app, db, room):
    workshop, _, made, anna, bram = room
    url = f"/w/{workshop['code']}/actions/{made['id']}/edit"
    form = _fields(anna.get(url).get_data(as_text=True))
    anna.post(url, {**form, "lead": "Saxion"})
    page = bram.post(url, {**form, "lead": "ROC"}).get_data(as_text=True)
    settled = {**_fields(page), "choose_lead": "theirs"}
    assert bram.post(url, settled).status_code == 303
    assert action.get(db, workshop, made["id"])["lead"] == "Saxion"


def test_the_history_page_says_who_changed_what(app, db, room, facilitator):
    workshop, recommendation, made, anna, bram = room
    url = f"/w/{workshop['code']}/actions/{made['id']}/edit"
    bram.post(url, {**_fields(bram.get(url).get_data(as_text=True)), "indicator": "60 mensen"})
    page = anna.get(f"/w/{workshop['code']}/actions/{made['id']}/history").get_data(as_text=True)
    assert "Bram" in page and "60 mensen" in page and "Anna" in page
    whole = facilitator.get(f"/facilitator/workshops/{workshop['code']}/history").get_data(as_text=True)
    assert "60 mensen" in whole


def test_history_hides_names_in_an_anonymous_workshop(app, db, room):
    workshop, _, made, anna, _ = room
    db.execute("UPDATE workshops SET anonymous = 1 WHERE id = ?", [workshop["id"]])
    db.conn.commit()
    page = anna.get(f"/w/{workshop['code']}/actions/{made['id']}/history").get_data(as_text=True)
    assert "Anna" not in page and "Norma" in page


def test_rating_and_volunteering(app, db, room):
    workshop, _, made, anna, bram = room
    response = anna.post(f"/w/{workshop['code']}/actions/{made['id']}/rating", {"impact": "4", "effort": "2"}, htmx=True)
    assert response.status_code == 200 and "4" in response.get_data(as_text=True)
    refused = anna.post(f"/w/{workshop['code']}/actions/{made['id']}/rating", {"impact": "9", "effort": "2"}, htmx=True)
    assert refused.status_code == 422
    assert bram.post(f"/w/{workshop['code']}/actions/{made['id']}/volunteer", {"role": "lead"}).status_code == 303
    assert action.volunteers(db, workshop)[made["id"]][0]["organisation"] == "ROC"
    assert action.my_ratings(db, anna.participant_id)[made["id"]]["impact"] == 4


def test_the_matrix_appears_when_results_are_revealed(app, db, room, facilitator):
    workshop, _, made, anna, _ = room
    anna.post(f"/w/{workshop['code']}/actions/{made['id']}/rating", {"impact": "5", "effort": "1"})
    assert "<svg" not in anna.get(f"/w/{workshop['code']}").get_data(as_text=True).split('id="matrix"')[1]
    page = facilitator.get(f"/facilitator/workshops/{workshop['code']}?step=actions").get_data(as_text=True)
    matrix = page.split('id="matrix"')[1]
    assert "<svg" in matrix and "<table" in matrix and "Leerrecht" in matrix


def test_another_workshops_action_answers_like_a_missing_one(app, db, room, facilitator):
    workshop, recommendation, made, anna, _ = room
    other = workshops.create(db, facilitator.account["id"], {
        "title": "Ander", "region": "R", "sector": "S", "date": "2026-12-01", "language": "nl", "dots": "5"})
    for url in (f"/w/{workshop['code']}/actions/{made['id'] + 1000}/edit",
                f"/w/{workshop['code']}/actions/{made['id'] + 1000}/history",
                f"/facilitator/workshops/{other['code']}/actions/{made['id']}/edit"):
        browser = facilitator if url.startswith("/facilitator") else anna
        assert browser.get(url).status_code == 404


def test_writing_a_text_together(app, db, room, facilitator):
    workshop, _, _, anna, bram = room
    url = f"/w/{workshop['code']}/texts/vision"
    anna_form = _fields(anna.get(url).get_data(as_text=True))
    bram_form = _fields(bram.get(url).get_data(as_text=True))
    assert anna.post(url, {**anna_form, "body": "Iedereen leert."}).status_code == 303
    collided = bram.post(url, {**bram_form, "body": "Samen leren."})
    assert collided.status_code == 409
    page = collided.get_data(as_text=True)
    assert "Iedereen leert." in page and "Samen leren." in page
    assert bram.post(url, {**_fields(page), "body": "Iedereen leert, samen."}).status_code == 303
    assert agenda.build(db, workshop, 1)["texts"]["vision"] == "Iedereen leert, samen."
    assert anna.get(f"/w/{workshop['code']}/texts/mission").status_code == 404


def test_a_closed_workshop_takes_no_more_from_the_room_but_the_facilitator_follows_up(app, db, room, facilitator):
    workshop, _, made, anna, _ = room
    code = workshop["code"]
    assert facilitator.post(f"/facilitator/workshops/{code}/close", {"closed": "1"}).status_code == 303
    refused = anna.post(f"/w/{code}/actions/{made['id']}/rating", {"impact": "3", "effort": "3"})
    assert refused.status_code == 422
    page = anna.get(f"/w/{code}").get_data(as_text=True)
    assert "/rating" not in page and "/volunteer" not in page
    url = f"/facilitator/workshops/{code}/actions/{made['id']}/progress"
    form = _fields(facilitator.get(url).get_data(as_text=True))
    saved = facilitator.post(url, {**form, "status": "started", "progress": "Twee bedrijven doen mee"})
    assert saved.status_code == 303
    assert facilitator.post(f"/facilitator/workshops/{code}/drafts").status_code == 303
    built = agenda.build(db, workshops.get(db, workshop["id"]), 2)
    assert built["followup"] and built["actions"][0]["status"] == "started"
    assert built["actions"][0]["progress"] == "Twee bedrijven doen mee"
    review = facilitator.get(f"/facilitator/workshops/{code}?step=review").get_data(as_text=True)
    assert "Open the workshop again" in review or "weer open" in review


def test_a_save_between_a_conflict_and_its_page_is_not_undone(app, db, room, monkeypatch):
    """The conflict page names the version its conflict was found at, not a later one read after it."""
    workshop, recommendation, made, anna, bram = room
    url = f"/w/{workshop['code']}/actions/{made['id']}/edit"
    form = _fields(bram.get(url).get_data(as_text=True))
    anna.post(url, {**form, "what": "Leerrecht van 40 uur"})
    edit = action.edit

    def someone_saves_right_after_the_conflict(*args, **kwargs):
        try:
            return edit(*args, **kwargs)
        except editing.Conflict:
            now = action.get(db, workshop, made["id"])
            edit(db, workshop, made["id"], {**now, "lead": "Saxion"}, participant_id=anna.participant_id)
            raise

    monkeypatch.setattr(action, "edit", someone_saves_right_after_the_conflict)
    page = bram.post(url, {**form, "what": "Leerrecht voor iedereen"}).get_data(as_text=True)
    monkeypatch.undo()
    settled = _fields(page)
    assert settled["version"] == "2"
    # Bram keeps his text; Saxion as lead, saved after his conflict page was made, stays.
    assert bram.post(url, {**settled, "choose_what": "mine"}).status_code == 303
    saved = action.get(db, workshop, made["id"])
    assert (saved["what"], saved["lead"]) == ("Leerrecht voor iedereen", "Saxion")


def test_a_text_saved_between_a_conflict_and_its_page_is_not_undone(app, db, room, monkeypatch):
    workshop, _, _, anna, bram = room
    url = f"/w/{workshop['code']}/texts/vision"
    form = _fields(bram.get(url).get_data(as_text=True))
    anna.post(url, {**form, "body": "Iedereen leert."})
    save = texts.save

    def someone_saves_right_after_the_conflict(*args, **kwargs):
        try:
            return save(*args, **kwargs)
        except editing.Conflict:
            save(db, workshop, "vision", {"body": "Iedereen leert, elke dag.", "version": "1"},
                 participant_id=anna.participant_id)
            raise

    monkeypatch.setattr(texts, "save", someone_saves_right_after_the_conflict)
    page = bram.post(url, {**form, "body": "Samen leren."}).get_data(as_text=True)
    monkeypatch.undo()
    # Keeping "theirs" as shown must not quietly put back the text Anna has since replaced.
    assert bram.post(url, {**_fields(page), "choose_body": "theirs"}).status_code == 303
    assert texts.all_texts(db, workshop)["vision"]["body"] == "Iedereen leert, elke dag."


def test_saving_an_action_keeps_a_recommendation_or_answer_no_longer_on_offer(app, db, room, facilitator):
    """Un-adopting its recommendation or hiding what it answers leaves the action editable, unmoved."""
    workshop, recommendation, made, anna, _ = room
    other = workshops.items(db, workshop, kinds=("recommendation",))[1]
    workshops.set_adopted(db, workshop, other["id"], True)
    driver = workshops.items(db, workshop, kinds=("driver",))[0]
    action.edit(db, workshop, made["id"], {**action.get(db, workshop, made["id"]), "answers_item_id": driver["id"]})
    workshops.set_hidden(db, workshop, driver["id"], True)
    workshops.set_adopted(db, workshop, recommendation["id"], False)
    url = f"/facilitator/workshops/{workshop['code']}/actions/{made['id']}/edit"
    form = _fields(facilitator.get(url).get_data(as_text=True))
    assert facilitator.post(url, {**form, "lead": "Saxion"}).status_code == 303
    saved = action.get(db, workshop, made["id"])
    assert (saved["lead"], saved["recommendation_id"], saved["answers_item_id"]) == (
        "Saxion", recommendation["id"], driver["id"])


def test_a_closed_workshop_takes_no_one_new_and_no_done_flags(app, db, room, facilitator, visitor):
    workshop, _, _, anna, _ = room
    code = workshop["code"]
    facilitator.post(f"/facilitator/workshops/{code}/close", {"closed": "1"})
    before = db["participants"].count
    refused = visitor.post(f"/j/{code}", {"name": "Laat", "organisation": "Later BV", "stakeholder_group": "other"})
    assert refused.status_code == 422 and "geen nieuwe deelnemers" in refused.get_data(as_text=True)
    assert db["participants"].count == before
    assert 'name="organisation"' not in visitor.get(f"/j/{code}").get_data(as_text=True)
    assert anna.post(f"/w/{code}/done", {"done": "1"}).status_code == 422
    assert db["step_done"].count == 0
    assert "done-button" not in anna.get(f"/w/{code}").get_data(as_text=True)
    # The facilitator may still add someone without a device, and the room rejoins to read.
    added = facilitator.post(f"/facilitator/workshops/{code}/participants",
                             {"name": "Zonder", "organisation": "Apparaat", "stakeholder_group": "other"})
    assert added.status_code == 303


def test_the_review_step_says_what_changed_since_the_latest_draft(app, db, room, facilitator):
    workshop, recommendation, made, anna, _ = room
    agenda.export_draft(db, workshop)
    action.propose(db, workshop, {"recommendation_id": recommendation["id"], "what": "Open dag"})
    workshop = at_step(db, workshop, "review")
    for page in (facilitator.get(f"/facilitator/workshops/{workshop['code']}?step=review"),
                 anna.get(f"/w/{workshop['code']}")):
        text = page.get_data(as_text=True)
        assert "Wijzigingen sinds concept 1" in text and "Actie toegevoegd: Open dag" in text


def test_many_people_saving_the_same_field_at_once_lose_nothing(app, db, room):
    """Eight people save the same field from the same version at the same moment: one wins, seven get both texts."""
    import threading

    workshop, _, made, *_ = room
    url = f"/w/{workshop['code']}/actions/{made['id']}/edit"
    browsers = [join(app, workshop, "workers", f"P{i}", f"Org {i}") for i in range(8)]
    forms = [_fields(b.get(url).get_data(as_text=True)) for b in browsers]
    start = threading.Barrier(len(browsers))
    answers = {}

    def save(i):
        start.wait()
        answers[i] = browsers[i].post(url, {**forms[i], "what": f"Text of P{i}"})

    threads = [threading.Thread(target=save, args=(i,)) for i in range(len(browsers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(r.status_code for r in answers.values())
    assert codes == [303] + [409] * 7
    winner = next(i for i, r in answers.items() if r.status_code == 303)
    assert action.get(db, workshop, made["id"])["what"] == f"Text of P{winner}"
    for i, response in answers.items():
        if i != winner:
            page = response.get_data(as_text=True)
            assert f"Text of P{i}" in page and f"Text of P{winner}" in page


def test_an_action_removed_while_someone_edits_keeps_what_they_typed(app, db, room, facilitator):
    workshop, _, made, anna, _ = room
    url = f"/w/{workshop['code']}/actions/{made['id']}/edit"
    form = _fields(anna.get(url).get_data(as_text=True))
    action.remove(db, workshop, made["id"], facilitator_id=facilitator.account["id"])
    answer = anna.post(url, {**form, "what": "Mijn nieuwe tekst", "first_step": "Bellen met ROC"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 404
    assert "Mijn nieuwe tekst" in page and "Bellen met ROC" in page


def test_the_edit_pages_say_when_the_room_may_no_longer_change_anything(app, db, room, facilitator):
    workshop, _, made, anna, _ = room
    workshops.set_closed(db, workshop, True)
    for url in (f"/w/{workshop['code']}/actions/{made['id']}/edit", f"/w/{workshop['code']}/texts/vision"):
        page = anna.get(url).get_data(as_text=True)
        assert "not open now" in page or "kan nu niet" in page
        assert 'class="primary">' not in page.split("<main", 1)[1]
    assert 'class="primary">' in facilitator.get(
        f"/facilitator/workshops/{workshop['code']}/actions/{made['id']}/edit").get_data(as_text=True)
