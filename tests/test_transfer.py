"""Moving a workshop as JSON: exact round trips, templates, and files that must be refused."""
import copy
import io
import json

import pytest
from conftest import WORKSHOP_FORM, Visitor, at_step, make_facilitator, person
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit import action as actions
from toolkit import agenda, catalogue, comment, editing, exports, merge, participant, texts, transfer, vote
from toolkit import step as steps
from toolkit import workshop as workshops
from toolkit.db import connect, migrate
from toolkit.validation import _FORBIDDEN, Invalid

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
TABLES = ("workshops", "items", "participants", "votes", "step_settings", "step_done", "comments", "actions",
          "action_volunteers", "action_ratings", "agenda_texts", "edits", "drafts")


def action_form(recommendation, **fields) -> dict:
    """Every field of the action form, with what fields says."""
    return {"recommendation_id": recommendation["id"], "what": "An action", "lead": "", "partners": "",
            "answers_item_id": "", "starts": "", "ends": "", "timeline": "", "resources": "",
            "indicator": "", "first_step": "", **fields}


def rich_workshop(db, facilitator_id, form=WORKSHOP_FORM, drafts=True, words=None, long=False) -> dict:
    """A workshop with something in every table: votes, a merge, comments, actions, texts, history, drafts.

    words, when given, is what people type into every free field; long repeats it up to each
    field's limit.
    """
    def say(default, limit, required=False):
        if words is None:
            return default
        value = (words * (limit // len(words) + 1))[:limit] if long else words[:limit]
        if required and not _FORBIDDEN.sub("", value).strip():
            value = ("x" + value)[:limit]  # a required field left empty is refused, as it should be
        return value

    workshop = workshops.create(db, facilitator_id, form)
    anna = participant.join(db, workshop, {"name": say("Anna", 120, True), "organisation": say("Acme", 120, True),
                                           "stakeholder_group": "companies"})
    ben = person(db, workshop, "education", "Ben", "ROC")
    cas = participant.join(db, workshop, {"name": "Cas", "organisation": "Gemeente",
                                          "stakeholder_group": "government"}, on_behalf=True)
    workshop = at_step(db, workshop, "drivers")
    steps.configure(db, workshop, "drivers", {"method": "dots", "cap": "3", "named_votes": "1"})
    drivers = workshops.items(db, workshop, kinds=("driver",))
    own = workshops.add_item(db, workshop, {"title": say("Own driver", 200, True),
                                            "explanation": say("Line one\nLine two", 1000)},
                             ("driver",), participant_id=anna["id"])
    duplicate = workshops.add_item(db, workshop, {"title": "Own driver again"}, ("driver",),
                                   participant_id=ben["id"])
    vote.set_dots(db, workshop, anna["id"], drivers[0]["id"], 2)
    vote.set_dots(db, workshop, anna["id"], duplicate["id"], 1)
    vote.set_dots(db, workshop, ben["id"], own["id"], 1)
    vote.set_dots(db, workshop, ben["id"], duplicate["id"], 2)
    vote.set_dots(db, workshop, cas["id"], duplicate["id"], 1)
    comment.add(db, workshop, duplicate["id"], {"body": say("Same as the other one", 1000, True)},
                participant_id=cas["id"])
    hidden = comment.add(db, workshop, drivers[0]["id"], {"body": "Off topic"}, participant_id=anna["id"])
    comment.set_hidden(db, workshop, hidden["id"], True)
    comment.add(db, workshop, own["id"], {"body": "From the facilitator"})
    merge.merge(db, workshop, duplicate["id"], own["id"])
    workshops.set_adopted(db, workshop, own["id"], True)
    workshops.set_hidden(db, workshop, drivers[-1]["id"], True)
    steps.set_done(db, workshop, anna["id"], "drivers", True)
    steps.set_done(db, workshop, ben["id"], "drivers", True)
    steps.set_locked(db, workshop, "drivers", True)
    steps.set_revealed(db, workshop, "drivers", True)

    workshop = at_step(db, workshop, "recommendations")
    steps.configure(db, workshop, "recommendations", {"method": "points", "cap": ""})
    recommendations = workshops.items(db, workshop, kinds=("recommendation",))
    vote.set_dots(db, workshop, anna["id"], recommendations[0]["id"], 60)
    vote.set_dots(db, workshop, anna["id"], recommendations[1]["id"], 40)
    vote.set_dots(db, workshop, ben["id"], recommendations[1]["id"], 100)
    for recommendation in recommendations[:2]:
        workshops.set_adopted(db, workshop, recommendation["id"], True)
    steps.set_revealed(db, workshop, "recommendations", True)

    workshop = at_step(db, workshop, "actions")
    fields = {"what": say("Learning rights for every worker", 500, True), "lead": say("FNV", 500),
              "partners": say("Acme, ROC", 500), "answers_item_id": own["id"], "starts": "2027-Q1",
              "ends": "2027-12", "timeline": say("Before the summer", 500), "resources": say("Sector fund", 500),
              "indicator": say("60% learn every year", 500), "first_step": say("Put it on the agenda", 500)}
    first = actions.propose(db, workshop, action_form(recommendations[0], **fields), participant_id=anna["id"])
    second = actions.propose(db, workshop, action_form(recommendations[1], what="Career scans", lead="Oost",
                                                       starts="2027"), facilitator_id=facilitator_id)
    gone = actions.propose(db, workshop, action_form(recommendations[1], what="Dropped later"),
                           participant_id=ben["id"])
    actions.edit(db, workshop, first["id"], {**action_form(recommendations[0], **fields), "partners": "Acme",
                                             "version": 1}, participant_id=ben["id"])
    actions.edit(db, workshop, first["id"], {"status": "started", "progress": say("Begun in May", 2000),
                                             "version": actions.get(db, workshop, first["id"])["version"]},
                 facilitator_id=facilitator_id, follow_up=True)
    actions.volunteer(db, workshop, first["id"], anna["id"], "lead")
    actions.volunteer(db, workshop, first["id"], ben["id"], "partner")
    actions.volunteer(db, workshop, second["id"], cas["id"], "partner")
    actions.rate(db, workshop, first["id"], anna["id"], {"impact": 5, "effort": 2})
    actions.rate(db, workshop, first["id"], ben["id"], {"impact": 4, "effort": 1})
    actions.rate(db, workshop, second["id"], cas["id"], {"impact": 2, "effort": 4})
    texts.save(db, workshop, "vision", {"body": say("Everyone learns.\nAll life long.", 5000), "version": 0},
               participant_id=anna["id"])
    texts.save(db, workshop, "summary", {"body": say("Six actions.", 5000), "version": 0},
               facilitator_id=facilitator_id)
    texts.save(db, workshop, "summary", {"body": say("Three actions.", 4000) + " Soon more.",
                                         "version": texts.all_texts(db, workshop)["summary"]["version"]},
               participant_id=ben["id"])
    if drafts:
        agenda.export_draft(db, workshop)
    actions.remove(db, workshop, gone["id"], facilitator_id=facilitator_id)
    if drafts:
        agenda.export_draft(db, workshop)
    workshops.set_closed(db, workshop, True)
    return workshops.get(db, workshop["id"])


def counts(db) -> dict:
    return {table: db[table].count for table in TABLES}


@pytest.fixture(scope="module")
def shelf(tmp_path_factory):
    """A database of its own with a rich workshop's export, shared by the tests that import broken files."""
    db = connect(tmp_path_factory.mktemp("rich") / "r.db")
    migrate(db)
    catalogue.load(db)
    account = make_facilitator(db)
    yield {"db": db, "facilitator_id": account["id"],
           "data": transfer.export_workshop(db, rich_workshop(db, account["id"]))}
    db.close()


@pytest.fixture
def exported(shelf):
    """The export of a rich workshop, made once."""
    return shelf["data"]


def test_export_holds_the_whole_workshop_and_nothing_of_the_installation(db, facilitator):
    original = rich_workshop(db, facilitator.account["id"])
    data = transfer.export_workshop(db, original)
    assert data["format"] == "toolkit-workshop" and data["format_version"] == 1
    assert {key: len(value) for key, value in data.items() if isinstance(value, list)} == {
        "steps": 2, "items": len(workshops.items(db, original, include_hidden=True)), "participants": 3,
        "votes": 7, "step_done": 2, "comments": 3, "actions": 2, "volunteers": 3, "ratings": 3,
        "texts": 2, "edits": 9, "drafts": 2,
        "audit": db.execute("SELECT count(*) FROM audit WHERE workshop_id = ?", [original["id"]]).fetchone()[0]}
    text = json.dumps(data)
    assert original["code"] not in text
    for row in db.query("SELECT rejoin_code, request_token FROM participants"):
        assert row["rejoin_code"] not in text
    assert "request_token" not in text and "facilitator_id" not in text and "revision" not in text
    assert data["workshop"]["closed_at"] == original["closed_at"]
    merged = [item for item in data["items"] if item["merged_into"]]
    assert len(merged) == 1 and data["items"][merged[0]["merged_into"] - 1]["title"] == "Own driver"
    # The removed action lives on in the history and in the first draft, numbered after the others.
    assert [edit["subject"] for edit in data["edits"]].count("action:3") == 2
    assert set(data["drafts"][0]["snapshot"]["actions"]) == {"1", "2", "3"}
    assert set(data["drafts"][1]["snapshot"]["actions"]) == {"1", "2"}
    # Ids count from 1 in the file, whatever the database used.
    assert [item["id"] for item in data["items"]] == list(range(1, len(data["items"]) + 1))
    assert data["drafts"][1]["docx"] and data["drafts"][1]["changes"]["removed"] == ["Dropped later"]


def test_export_import_export_is_exact(db, facilitator):
    original = rich_workshop(db, facilitator.account["id"])
    data = transfer.export_workshop(db, original)
    text = json.dumps(data, ensure_ascii=False, indent=1)
    other = make_facilitator(db, "other@example.org")
    copied = transfer.import_workshop(db, other["id"], transfer.parse(text.encode()))
    assert copied["code"] != original["code"] and copied["facilitator_id"] == other["id"]
    again = transfer.export_workshop(db, copied)
    assert again == data
    assert json.dumps(again, ensure_ascii=False, indent=1) == text
    # A copy of the copy is the same workshop again.
    third = transfer.import_workshop(db, other["id"], again)
    assert transfer.export_workshop(db, third) == data


def test_an_imported_workshop_carries_on_where_it_was(db, facilitator):
    original = rich_workshop(db, facilitator.account["id"])
    copied = transfer.import_workshop(db, facilitator.account["id"], transfer.export_workshop(db, original))
    assert copied["step"] == "actions" and copied["closed_at"] == original["closed_at"]
    people = participant.in_room(db, copied)
    assert all(p["rejoin_code"] and p["request_token"] is None for p in people)
    assert len({p["rejoin_code"] for p in people}) == 3
    assert {p["rejoin_code"] for p in people}.isdisjoint(p["rejoin_code"] for p in participant.in_room(db, original))
    # The same results, drafts and agenda.
    assert sorted(map(str, vote.tallies(db, copied).values())) == sorted(map(str, vote.tallies(db, original).values()))
    for version in (1, 2):
        assert agenda.draft(db, copied, version)["docx"] == agenda.draft(db, original, version)["docx"]
    built = {w["code"]: {**agenda.build(db, w, 3), "generated_at": ""} for w in (original, copied)}
    assert exports.markdown(built[original["code"]]) == exports.markdown(built[copied["code"]])
    # The history speaks of the copy's own records, so editing from an old version merges.
    copied = workshops.set_closed(db, copied, False)
    first = actions.for_workshop(db, copied)[0]
    record = editing.snapshot(db, copied, actions.subject(first), 1)
    assert record["answers_item_id"] == first["answers_item_id"]
    assert record["recommendation_id"] == first["recommendation_id"]
    edited = actions.edit(db, copied, first["id"], {**record, "indicator": "Changed", "version": 1},
                          facilitator_id=facilitator.account["id"])
    assert edited["indicator"] == "Changed" and edited["partners"] == "Acme"
    # A new action never takes the removed one's place in the history.
    recommendation = actions.adopted_recommendations(db, copied)[0]
    added = actions.propose(db, copied, action_form(recommendation, what="New"),
                            facilitator_id=facilitator.account["id"])
    assert [e["kind"] for e in editing.history(db, copied, actions.subject(added))] == ["created"]
    # The next draft compares with the imported one: only the new action is news.
    draft = agenda.export_draft(db, copied)
    assert json.loads(db.execute("SELECT changes FROM drafts WHERE id = ?", [draft["id"]]).fetchone()[0]) \
        == {"added": ["New"], "removed": [], "changed": ["Learning rights for every worker"], "progress": [],
            "moved": [], "new_priorities": [], "dropped_priorities": [], "since": 2}


def test_only_the_setup_makes_a_template(db, facilitator):
    original = rich_workshop(db, facilitator.account["id"], drafts=False)
    data = transfer.export_workshop(db, original)
    template = transfer.import_workshop(db, facilitator.account["id"], data, structure_only=True)
    assert template["step"] == "welcome" and template["closed_at"] is None
    assert {key: template[key] for key in WORKSHOP_FORM if key != "dots"} == {
        key: original[key] for key in WORKSHOP_FORM if key != "dots"}
    again = transfer.export_workshop(db, template)
    for section in ("participants", "votes", "step_done", "comments", "actions", "volunteers", "ratings",
                    "edits", "drafts"):
        assert again[section] == [], section
    assert again["texts"] == data["texts"]
    assert again["steps"] == [{**row, "locked": False, "revealed": False} for row in data["steps"]]
    # The study's items and the room's own, hidden ones still hidden; no merged duplicate, nothing adopted.
    kept = [item for item in data["items"] if not item["merged_into"]]
    assert [(i["catalogue_id"], i["title"], i["hidden"]) for i in again["items"]] == [
        (i["catalogue_id"], i["title"], i["hidden"]) for i in kept]
    assert not any(i["adopted"] or i["added_by"] or i["merged_into"] for i in again["items"])


def test_parse_reads_json_text_only():
    assert transfer.parse(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}
    for raw in (b"", b"\xff\xfe{", "{}".encode("utf-16"), b"<html>", b'{"a": NaN}', b'{"a": Infinity}',
                b'{"a": 1, "a": 2}', b"[" * 100_000 + b"]" * 100_000, b'{"a": ' + b"9" * 5000 + b"}",
                b"\x00\x01\x02", b'{"a": "\\ud800"'):
        with pytest.raises(Invalid) as raised:
            transfer.parse(raw)
        assert raised.value.field == "file"


def _set(path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def _delete(path):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return change


BROKEN = {
    "not an object": lambda data: data.clear() or data.update({"format": ["toolkit-workshop"]}),
    "wrong format": _set(["format"], "something-else"),
    "newer version": _set(["format_version"], 2),
    "version as text": _set(["format_version"], "1"),
    "version as float": _set(["format_version"], 1.0),
    "version as bool": _set(["format_version"], True),
    "missing section": _delete(["votes"]),
    "unknown section": _set(["extra"], []),
    "section of wrong type": _set(["items"], {}),
    "record of wrong type": _set(["participants", 0], "Anna"),
    "missing key": _delete(["participants", 0, "organisation"]),
    "unknown key": _set(["participants", 0, "rejoin_code"], "ABCDEFGHJK"),
    "title too long": _set(["workshop", "title"], "x" * 201),
    "empty title": _set(["workshop", "title"], " \x00 "),
    "organisation too long": _set(["participants", 0, "organisation"], "x" * 121),
    "name as number": _set(["participants", 0, "name"], 12),
    "bad group": _set(["participants", 0, "stakeholder_group"], "admins"),
    "bad language": _set(["workshop", "language"], "de"),
    "bad date": _set(["workshop", "date"], "2026-02-30"),
    "bad step": _set(["workshop", "step"], "../etc"),
    "dots too many": _set(["workshop", "dots"], 21),
    "dots huge": _set(["workshop", "dots"], 10**30),
    "dots negative": _set(["votes", 0, "dots"], -1),
    "dots as float": _set(["votes", 0, "dots"], 1.5),
    "anonymous as number": _set(["workshop", "anonymous"], 1),
    "over the budget": _set(["votes", 0, "dots"], 6),
    "duplicate vote": lambda data: data["votes"].append(dict(data["votes"][0])),
    "dangling vote": _set(["votes", 0, "item"], 999),
    "dangling participant": _set(["votes", 0, "participant"], 999),
    "id zero": _set(["participants", 0, "id"], 0),
    "duplicate id": _set(["participants", 1, "id"], 1),
    "unknown catalogue item": _set(["items", 0, "catalogue_id"], "driver.made-up"),
    "catalogue item twice": _set(["items", 1, "catalogue_id"], "driver.staying-competitive"),
    "catalogue kind differs": _set(["items", 0, "kind"], "barrier"),
    "study wording replaced": _set(["items", 0, "title"], "Ours now"),
    "bad kind": _set(["items", 0, "kind"], "research_question"),
    "merged into itself": _set(["items", 0, "merged_into"], 1),
    "merged in a circle": lambda data: [_set(["items", 0, "merged_into"], 2)(data),
                                        _set(["items", 1, "merged_into"], 1)(data)],
    "merged across steps": lambda data: _set(["items", 0, "merged_into"],
                                             next(i["id"] for i in data["items"] if i["kind"] == "barrier"))(data),
    "bad timestamp": _set(["participants", 0, "joined_at"], "yesterday"),
    "timestamp as number": _set(["comments", 0, "created_at"], 1700000000),
    "comment too long": _set(["comments", 0, "body"], "x" * 1001),
    "empty comment": _set(["comments", 0, "body"], ""),
    "action for a driver": _set(["actions", 0, "recommendation"], 1),
    "action answering a recommendation": lambda data: _set(["actions", 0, "answers"],
                                                           data["actions"][0]["recommendation"])(data),
    "bad period": _set(["actions", 0, "starts"], "soon"),
    "end before start": lambda data: [_set(["actions", 0, "starts"], "2028")(data),
                                      _set(["actions", 0, "ends"], "2027-Q1")(data)],
    "bad status": _set(["actions", 0, "status"], "cancelled"),
    "version zero": _set(["actions", 0, "version"], 0),
    "empty what": _set(["actions", 0, "what"], ""),
    "volunteer for a removed action": _set(["volunteers", 0, "action"], 3),
    "bad role": _set(["volunteers", 0, "role"], "boss"),
    "rating out of scale": _set(["ratings", 0, "impact"], 6),
    "duplicate rating": lambda data: data["ratings"].append(dict(data["ratings"][0])),
    "bad text key": _set(["texts", 0, "key"], "preface"),
    "text too long": _set(["texts", 0, "body"], "x" * 5001),
    "bad subject": _set(["edits", 0, "subject"], "item:1"),
    "subject of db id": _set(["edits", 0, "subject"], "action:-1"),
    "unknown history field": _set(["edits", 0, "snapshot", "password"], "x"),
    "dangling history item": _set(["edits", 0, "snapshot", "recommendation_id"], 999),
    "changes not pairs": _set(["edits", 0, "changes", "what"], "x"),
    "bad edit kind": _set(["edits", 0, "kind"], "deleted"),
    "facilitator id": _set(["edits", 0, "by_facilitator"], 7),
    "draft twice": _set(["drafts", 1, "version"], 1),
    "draft not base64": _set(["drafts", 0, "docx"], "not base64!"),
    "draft not a document": _set(["drafts", 0, "docx"], "aGVsbG8="),
    "draft snapshot keys": _set(["drafts", 0, "snapshot", "actions", "x"], {}),
    "draft changes nested deep": _set(["drafts", 1, "changes", "added"], [[[[[[[["deep"]]]]]]]]),
    "draft changes huge number": _set(["drafts", 1, "changes", "since"], 10**100),
    "draft changes not lists": _set(["drafts", 1, "changes", "removed"], "Dropped later"),
    "draft changes unknown": _set(["drafts", 1, "changes", "rumours"], []),
    "draft moved without place": _set(["drafts", 1, "changes", "moved"], [{"title": "x", "from": 1}]),
    "draft snapshot not a record": _set(["drafts", 0, "snapshot", "actions", "1"], "what"),
    "draft snapshot without priorities": _delete(["drafts", 0, "snapshot", "priorities"]),
    "merged but shown": lambda data: _set(["items", next(n for n, i in enumerate(data["items"]) if i["merged_into"]),
                                           "hidden"], False)(data),
    "vote on a merged item": lambda data: _set(["votes", 0, "item"],
                                               next(i["id"] for i in data["items"] if i["merged_into"]))(data),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_file_is_refused_and_creates_nothing(shelf, case):
    data = copy.deepcopy(shelf["data"])
    BROKEN[case](data)
    before = counts(shelf["db"])
    with pytest.raises(Invalid) as raised:
        transfer.import_workshop(shelf["db"], shelf["facilitator_id"], data)
    assert raised.value.field == "file" and raised.value.message
    assert counts(shelf["db"]) == before


def test_the_unbroken_file_imports(shelf):
    created = transfer.import_workshop(shelf["db"], shelf["facilitator_id"], copy.deepcopy(shelf["data"]))
    assert transfer.export_workshop(shelf["db"], created) == shelf["data"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(-10, 10) | st.floats(allow_nan=True)
    | st.text(max_size=30) | st.sampled_from(["", "x" * 6000, "2027-Q2", "2026-01-01T10:00:00+00:00", "action:1"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=6,
)


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, entry in value.items():
            yield from _paths(entry, (*path, key))
    elif isinstance(value, list):
        for index, entry in enumerate(value):
            yield from _paths(entry, (*path, index))


@SETTINGS
@given(data=st.data())
def test_any_damage_is_refused_or_imported_whole(shelf, data):
    db, facilitator_id = shelf["db"], shelf["facilitator_id"]
    damaged = copy.deepcopy(shelf["data"])
    paths = [path for path in _paths(damaged) if path and path[-1] != "docx"]
    path = data.draw(st.sampled_from(paths))
    replacement = data.draw(json_values)
    _set(list(path), replacement)(damaged)
    before = counts(db)
    try:
        created = transfer.import_workshop(db, facilitator_id, damaged)
    except Invalid as error:
        assert error.field == "file"
        assert counts(db) == before
    else:
        # Whatever was accepted can be exported and imported again.
        transfer.import_workshop(db, facilitator_id, transfer.export_workshop(db, created))


# Through HTTP: the downloads, the import page, and its limits.

def _upload(browser, content: bytes, structure_only=False, **kwargs):
    form = {"file": (io.BytesIO(content), "workshop.json")}
    if structure_only:
        form["structure_only"] = "1"
    return browser.post("/facilitator/import", form, content_type="multipart/form-data", **kwargs)


def test_json_download_is_the_export(db, facilitator):
    workshop = rich_workshop(db, facilitator.account["id"], drafts=False)
    expected = transfer.export_workshop(db, workshop)
    response = facilitator.get(f"/facilitator/workshops/{workshop['code']}/workshop.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == f'attachment; filename="workshop-{workshop["code"]}.json"'
    # The file as it was when asked for: its own download is logged after it was made.
    assert json.loads(response.get_data(as_text=True)) == expected


def test_import_page_brings_in_a_workshop_larger_than_a_form(app, db, facilitator):
    original = rich_workshop(db, facilitator.account["id"])
    body = facilitator.get(f"/facilitator/workshops/{original['code']}/workshop.json").get_data()
    assert len(body) > app.config["MAX_CONTENT_LENGTH"]  # drafts make the file larger than any form
    page = facilitator.get("/facilitator/import")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and 'for="f-file"' in html and 'name="structure_only"' in html
    response = _upload(facilitator, body)
    assert response.status_code == 303
    code = response.location.rsplit("/", 1)[1]
    created = workshops.by_code(db, code)
    assert code != original["code"] and created["facilitator_id"] == facilitator.account["id"]
    assert transfer.export_workshop(db, created) == json.loads(body)
    assert "is geïmporteerd" in facilitator.get(response.location).get_data(as_text=True)  # the Dutch UI


def test_import_page_takes_only_the_setup(db, facilitator):
    original = rich_workshop(db, facilitator.account["id"], drafts=False)
    body = facilitator.get(f"/facilitator/workshops/{original['code']}/workshop.json").get_data()
    response = _upload(facilitator, body, structure_only=True)
    assert response.status_code == 303
    created = workshops.by_code(db, response.location.rsplit("/", 1)[1])
    assert participant.in_room(db, created) == [] and created["step"] == "welcome"


@pytest.mark.parametrize("content", [b"", b"not json", b"\xff\xfe\x00", b'{"format": "toolkit-workshop"}',
                                     b'{"format": "toolkit-workshop", "format_version": 99}', b"[]", b"1e999999"])
def test_import_page_refuses_a_broken_file_in_the_users_language(db, facilitator, content):
    before = counts(db)
    response = _upload(facilitator, content)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="message error"' in html and 'aria-invalid="true"' in html
    assert counts(db) == before
    facilitator.post("/language", {"lang": "nl"})
    dutch = _upload(facilitator, content).get_data(as_text=True)
    assert 'class="message error"' in dutch and '<html lang="nl">' in dutch


def test_import_page_refuses_a_damaged_record_saying_where(db, facilitator, exported):
    data = copy.deepcopy(exported)
    data["participants"][1]["organisation"] = "x" * 500
    response = _upload(facilitator, json.dumps(data).encode())
    assert response.status_code == 422
    assert "participants #2 › organisation" in response.get_data(as_text=True)


def test_import_page_refuses_a_file_over_its_limit(db, facilitator, monkeypatch):
    monkeypatch.setattr(transfer, "MAX_FILE", 100 * 1024)
    before = counts(db)
    response = _upload(facilitator, b" " * (300 * 1024))
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert 'class="message error"' in html and 'id="f-file"' in html
    assert counts(db) == before


def test_other_forms_keep_the_small_limit(app, facilitator):
    response = facilitator.post("/facilitator/workshops/new", {**WORKSHOP_FORM, "title": "x" * (100 * 1024)})
    assert response.status_code == 413


def test_import_needs_the_csrf_token_and_a_login(app, db, facilitator, exported):
    before = counts(db)
    body = json.dumps(exported).encode()
    response = facilitator.post("/facilitator/import", {"file": (io.BytesIO(body), "w.json")}, csrf=False,
                                content_type="multipart/form-data")
    assert response.status_code == 400
    stranger = Visitor(app.test_client())
    response = stranger.post("/facilitator/import", {"file": (io.BytesIO(body), "w.json")},
                             content_type="multipart/form-data")
    assert response.status_code == 401 and 'href="/login"' in response.get_data(as_text=True)
    assert stranger.get("/facilitator/import").status_code == 302
    assert counts(db) == before


def test_another_facilitators_workshop_answers_like_a_missing_one(app, db, facilitator):
    theirs = workshops.create(db, make_facilitator(db, "them@example.org")["id"], WORKSHOP_FORM)
    for path in ("workshop.json", "agenda.md", "votes.csv", "actions.csv"):
        other = facilitator.get(f"/facilitator/workshops/{theirs['code']}/{path}")
        missing = facilitator.get(f"/facilitator/workshops/ZZZZZZ/{path}")
        assert other.status_code == missing.status_code == 404
        # The pages differ only where they repeat the address asked for.
        assert other.get_data().replace(theirs["code"].encode(), b"ZZZZZZ") == missing.get_data()
        stranger = Visitor(app.test_client()).get(f"/facilitator/workshops/{theirs['code']}/{path}")
        assert stranger.status_code == 302 and "/login" in stranger.location


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(content=st.binary(max_size=300) | st.builds(lambda v: json.dumps(v).encode(), json_values))
def test_import_page_never_fails_on_any_bytes(db, facilitator, content):
    before = counts(db)
    response = _upload(facilitator, content)
    assert response.status_code == 422
    assert counts(db) == before


def test_dashboard_links_to_the_import_page(facilitator):
    assert 'href="/facilitator/import"' in facilitator.get("/facilitator/").get_data(as_text=True)


@pytest.mark.parametrize("limit, section", [("PARTICIPANTS", "participants"), ("COMMENTS", "comments"),
                                            ("ACTIONS", "actions"), ("DRAFTS", "drafts"), ("ROOM_ITEMS", "items")])
def test_a_file_is_held_to_the_limits_of_the_forms(shelf, monkeypatch, limit, section):
    from toolkit import limits

    data = shelf["data"]
    count = len(data[section]) if section != "items" else sum(1 for i in data["items"] if not i["catalogue_id"])
    monkeypatch.setattr(limits, limit, count - 1)
    before = shelf["db"]["workshops"].count
    with pytest.raises(Invalid) as refused:
        transfer.import_workshop(shelf["db"], shelf["facilitator_id"], copy.deepcopy(data))
    assert refused.value.field == "file" and refused.value.params == {"max": count - 1}
    assert shelf["db"]["workshops"].count == before
    monkeypatch.setattr(limits, limit, count)
    transfer.import_workshop(shelf["db"], shelf["facilitator_id"], copy.deepcopy(data))
