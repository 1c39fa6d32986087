"""Whatever a person can type or send gets a 2xx/3xx or a 4xx with a message, never a 5xx."""
import io

import pytest
from conftest import WORKSHOP_FORM, Visitor, join
from docx import Document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit import action, agenda
from toolkit import workshop as workshops
from toolkit.validation import _FORBIDDEN

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
anything = st.text(max_size=300) | st.sampled_from(["", " ", "0", "-1", "999999999999999999999", "x" * 2000,
                                                    "<script>alert(1)</script>", "{{ 7*7 }}", "' OR 1=1 --",
                                                    "hx-get=/logout", "\x00\ud800"])


def _sendable(value: str) -> str:
    # The test client encodes the form as UTF-8, which lone surrogates cannot be; a browser
    # would have replaced them the same way.
    return value.encode("utf-8", "replace").decode("utf-8")


@pytest.fixture
def room(app, db, workshop):
    """A workshop on its drivers step with one participant, and an adopted recommendation."""
    recommendation = workshops.items(db, workshop, kinds=("recommendation",))[0]
    workshops.set_adopted(db, workshop, recommendation["id"], True)
    workshops.set_step(db, workshop["id"], "drivers")
    workshop = workshops.get(db, workshop["id"])
    return {"workshop": workshop, "person": join(app, workshop), "recommendation": recommendation}


def _is_clean(response):
    assert response.status_code < 500
    if response.status_code >= 400:
        assert 'class="message error"' in response.get_data(as_text=True) or "<h1>" in response.get_data(as_text=True)


@SETTINGS
@given(fields=st.fixed_dictionaries({k: anything for k in WORKSHOP_FORM}), anonymous=anything)
def test_workshop_form(facilitator, db, fields, anonymous):
    before = db["workshops"].count
    response = facilitator.post("/facilitator/workshops/new",
                                {k: _sendable(v) for k, v in {**fields, "anonymous": anonymous}.items()})
    _is_clean(response)
    if response.status_code == 303:
        created = workshops.by_code(db, response.location.rsplit("/", 1)[1])
        assert created["title"] == _FORBIDDEN.sub("", _sendable(fields["title"])).strip()
        page = facilitator.get(response.location)
        assert page.status_code == 200
    else:
        assert db["workshops"].count == before


@SETTINGS
@given(name=anything, organisation=anything, group=anything)
def test_join_form(app, db, room, name, organisation, group):
    browser = Visitor(app.test_client())
    before = db["participants"].count
    response = browser.post(f"/j/{room['workshop']['code']}",
                            {"name": _sendable(name), "organisation": _sendable(organisation),
                             "stakeholder_group": _sendable(group)})
    _is_clean(response)
    assert db["participants"].count == before + (1 if response.status_code == 303 else 0)


@SETTINGS
@given(item_id=st.integers(-5, 10**6) | st.integers(2**62, 10**30) | st.just(None), dots=anything)
def test_dots(db, room, item_id, dots):
    items = workshops.items(db, room["workshop"], kinds=("driver",))
    target = items[0]["id"] if item_id is None else item_id
    response = room["person"].post(f"/w/{room['workshop']['code']}/items/{target}/dots", {"dots": _sendable(dots)},
                                   htmx=bool(item_id and item_id % 2))
    _is_clean(response)
    used = db.execute("SELECT coalesce(sum(dots), 0) FROM votes").fetchone()[0]
    assert 0 <= used <= room["workshop"]["dots"]


@SETTINGS
@given(fields=st.fixed_dictionaries({"kind": anything, "title": anything, "explanation": anything,
                                     "request_token": anything}))
def test_own_item(db, room, fields):
    response = room["person"].post(f"/w/{room['workshop']['code']}/items",
                                   {k: _sendable(v) for k, v in fields.items()})
    _is_clean(response)
    if response.status_code == 303:
        title = _FORBIDDEN.sub("", _sendable(fields["title"])).strip()
        page = room["person"].get(f"/w/{room['workshop']['code']}")
        assert page.status_code == 200
        stored = [i["title"] for i in workshops.items(db, room["workshop"]) if i["origin"] == "workshop"]
        assert title in stored


@SETTINGS
@given(fields=st.fixed_dictionaries({f: anything for f in action.FIELDS}), recommendation=anything)
def test_action_and_export(facilitator, db, room, fields, recommendation):
    """Anything typed into an action reaches the document intact, minus what XML cannot hold."""
    form = {k: _sendable(v) for k, v in fields.items()}
    form["recommendation_id"] = room["recommendation"]["id"] if not recommendation else _sendable(recommendation)
    response = facilitator.post(f"/facilitator/workshops/{room['workshop']['code']}/actions", form)
    _is_clean(response)
    if response.status_code == 303:
        exported = facilitator.post(f"/facilitator/workshops/{room['workshop']['code']}/drafts")
        assert exported.status_code == 303
        newest = agenda.drafts(db, room["workshop"])[0]["version"]
        url = f"/facilitator/workshops/{room['workshop']['code']}/drafts/{newest}.docx"
        document = Document(io.BytesIO(facilitator.get(url).data))
        cells = "\n".join(c.text for t in document.tables for r in t.rows for c in r.cells)
        # Line ends become paragraph breaks in Word, read back as "\n".
        what = _FORBIDDEN.sub("", form["what"]).strip().replace("\r\n", "\n").replace("\r", "\n")
        assert what in cells


@SETTINGS
@given(path=st.sampled_from(["/j/{}", "/w/{}", "/w/{}/items/{}/dots", "/facilitator/workshops/{}",
                             "/facilitator/workshops/{}/drafts/{}.docx", "/facilitator/workshops/{}/items/{}/hidden"]),
       code=st.text(alphabet="ABCDEFGHJKMNPQRSTUVWXYZ23456789%-_.~ ", max_size=12), number=st.integers(0, 10**12) | st.integers(2**62, 10**30))
def test_made_up_addresses(facilitator, room, path, code, number):
    url = path.format(code or "X", number)
    for method in (facilitator.get, facilitator.post):
        assert method(url).status_code < 500


periods = st.sampled_from(["", "2027", "2027-Q2", "Q3 2028", "2027-03-15"]) | anything
TEXT_FIELDS = st.fixed_dictionaries({f: anything for f in action.TEXT_FIELDS})


def _clean(value: str) -> str:
    return _FORBIDDEN.sub("", _sendable(value)).strip()


@pytest.fixture
def planned(db, room):
    """The room at the actions step with one action to edit."""
    workshop = workshops.get(db, room["workshop"]["id"])
    workshops.set_step(db, workshop["id"], "actions")
    workshop = workshops.get(db, workshop["id"])
    made = action.propose(db, workshop, {"recommendation_id": room["recommendation"]["id"], "what": "Start"})
    return {**room, "workshop": workshop, "action": made}


@SETTINGS
@given(fields=TEXT_FIELDS, starts=periods, ends=periods, answers=anything, version=anything)
def test_editing_an_action(db, planned, fields, starts, ends, answers, version):
    """Anything typed into an edit is refused with a message or saved intact and recorded."""
    code, made = planned["workshop"]["code"], planned["action"]
    current = action.get(db, planned["workshop"], made["id"])
    form = {k: _sendable(v) for k, v in fields.items()}
    form.update(recommendation_id=planned["recommendation"]["id"], starts=_sendable(starts), ends=_sendable(ends),
                answers_item_id=_sendable(answers), version=_sendable(version) or str(current["version"]))
    before = db["edits"].count
    response = planned["person"].post(f"/w/{code}/actions/{made['id']}/edit", form)
    _is_clean(response)
    saved = action.get(db, planned["workshop"], made["id"])
    if response.status_code == 303:
        assert {f: saved[f] for f in action.TEXT_FIELDS} == {f: _clean(form[f]) for f in action.TEXT_FIELDS}
        assert db["edits"].count == before + (saved["version"] != current["version"])
        for page in (f"/w/{code}/actions/{made['id']}/edit", f"/w/{code}/actions/{made['id']}/history", f"/w/{code}"):
            assert planned["person"].get(page).status_code == 200
    else:
        assert saved == current and db["edits"].count == before


@SETTINGS
@given(impact=anything | st.sampled_from(["1", "3", "5"]), effort=anything | st.sampled_from(["2", "4"]),
       role=anything | st.sampled_from(["lead", "partner", ""]))
def test_rating_and_volunteering(db, planned, impact, effort, role):
    code, made = planned["workshop"]["code"], planned["action"]
    rated = planned["person"].post(f"/w/{code}/actions/{made['id']}/rating",
                                   {"impact": _sendable(impact), "effort": _sendable(effort)})
    _is_clean(rated)
    offered = planned["person"].post(f"/w/{code}/actions/{made['id']}/volunteer", {"role": _sendable(role)})
    _is_clean(offered)
    for row in db["action_ratings"].rows:
        assert 1 <= row["impact"] <= 5 and 1 <= row["effort"] <= 5
    assert {row["role"] for row in db["action_volunteers"].rows} <= {"lead", "partner"}


@SETTINGS
@given(key=st.sampled_from(["vision", "summary", "next_steps"]) | anything, body=anything, version=anything)
def test_writing_a_text(db, planned, key, body, version):
    code = planned["workshop"]["code"]
    response = planned["person"].post(f"/w/{code}/texts/{_sendable(key)}",
                                      {"body": _sendable(body), "version": _sendable(version)})
    _is_clean(response)
    if response.status_code == 303:
        stored = {row["key"]: row["body"] for row in db["agenda_texts"].rows}
        assert stored.get(key, "") == _clean(body)  # an empty text never written is empty


@SETTINGS
@given(status=anything | st.sampled_from(["planned", "started", "done", "stopped"]), progress=anything)
def test_following_up(db, facilitator, planned, status, progress):
    code, made = planned["workshop"]["code"], planned["action"]
    current = action.get(db, planned["workshop"], made["id"])
    response = facilitator.post(f"/facilitator/workshops/{code}/actions/{made['id']}/progress",
                                {"status": _sendable(status), "progress": _sendable(progress),
                                 "version": current["version"]})
    _is_clean(response)
    saved = action.get(db, planned["workshop"], made["id"])
    if response.status_code == 303:
        assert (saved["status"], saved["progress"]) == (status, _clean(progress))
    else:
        assert saved == current
