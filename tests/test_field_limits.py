"""Every text field of every form: its maximum length is taken intact, one more is refused with the limit named."""
import pytest
from conftest import WORKSHOP_FORM, at_step, join

from toolkit import action, comment, texts
from toolkit import workshop as workshops
from toolkit.db import connect

TOO_LONG = "Please use at most {} characters."


def _value(length: int) -> str:
    return ("Lang veld " * length)[:length - 1] + "!"


@pytest.fixture
def ctx(app, db, facilitator, workshop):
    """A workshop at its actions step with an adopted driver and recommendation, an action and a participant."""
    facilitator.post("/language", {"lang": "en"})
    recommendation = workshops.items(db, workshop, kinds=("recommendation",))[0]
    driver = workshops.items(db, workshop, kinds=("driver",))[0]
    workshops.set_adopted(db, workshop, recommendation["id"], True)
    workshop = at_step(db, workshop, "drivers")
    person = join(app, workshop)
    person.post("/language", {"lang": "en"})
    own = workshops.add_item(db, workshop, {"title": "Own item"}, ("driver",))
    made = action.propose(db, workshop, {"recommendation_id": recommendation["id"], "what": "Start"})
    return {"db": db, "workshop": workshop, "f": facilitator, "p": person, "driver": driver, "own": own,
            "action": made, "recommendation": recommendation}


def _action_form(c, **change):
    current = action.get(c["db"], c["workshop"], c["action"]["id"])
    return {**{f: current[f] or "" for f in action.FIELDS}, "version": current["version"], **change}


# (name, who posts, url, form around the field, field, maximum, page that shows what was saved;
# None: where the form redirects to)
W = "/facilitator/workshops/{code}"
CASES = [
    ("workshop title", "f", "/facilitator/workshops/new", lambda c: dict(WORKSHOP_FORM), "title",
     workshops.MAX_TITLE, None),
    *[(f"workshop {f}", "f", W + "/edit", lambda c: dict(WORKSHOP_FORM), f, limit, W + "/edit")
      for f, limit in (("title", workshops.MAX_TITLE), ("region", workshops.MAX_SHORT),
                       ("sector", workshops.MAX_SHORT))],
    *[(f"join {f}", "f", W + "/participants", lambda c: {"name": "N", "organisation": "O",
                                                         "stakeholder_group": "education"},
       f, workshops.MAX_SHORT, W + "/participants") for f in ("name", "organisation")],
    *[(f"own item {f}", "p", "/w/{code}/items", lambda c: {"title": "T"}, f, limit, "/w/{code}")
      for f, limit in (("title", workshops.MAX_TITLE), ("explanation", workshops.MAX_EXPLANATION))],
    *[(f"regional item {f}", "f", W + "/items", lambda c: {"title": "T", "step": "drivers"}, f, limit,
       "p:/w/{code}") for f, limit in (("title", workshops.MAX_TITLE),
                                             ("explanation", workshops.MAX_EXPLANATION))],
    *[(f"edited item {f}", "f", W + "/items/{own}/edit", lambda c: {"title": "T"}, f, limit,
       W + "/items/{own}/edit") for f, limit in (("title", workshops.MAX_TITLE),
                                                 ("explanation", workshops.MAX_EXPLANATION))],
    ("comment", "p", "/w/{code}/items/{driver}/comments", lambda c: {}, "body", comment.MAX_BODY, "/w/{code}"),
    *[(f"new action {f}", "f", W + "/actions", lambda c: {"recommendation_id": c["recommendation"]["id"],
                                                          "what": "W"}, f, action.MAX_FIELD, None)
      for f in action.TEXT_FIELDS],
    *[(f"edited action {f}", "f", W + "/actions/{action}/edit", _action_form, f, action.MAX_FIELD,
       W + "/actions/{action}/edit") for f in action.TEXT_FIELDS],
    ("progress", "f", W + "/actions/{action}/progress",
     lambda c: {"status": "started", "version": action.get(c["db"], c["workshop"], c["action"]["id"])["version"]},
     "progress", action.MAX_PROGRESS, W + "/actions/{action}/progress"),
    *[(f"text {key}", "f", W + f"/texts/{key}", lambda c: {"version": "0"}, "body", texts.MAX_TEXT,
       W + f"/texts/{key}") for key in texts.KEYS],
]


def _url(template, c):
    return template.format(code=c["workshop"]["code"], driver=c["driver"]["id"], own=c["own"]["id"],
                           action=c["action"]["id"])


def _snapshot(db):
    tables = ("workshops", "participants", "items", "comments", "actions", "agenda_texts", "edits")
    return {t: [tuple(r.values()) for r in db[t].rows] for t in tables}


@pytest.mark.parametrize("name,who,url,form,field,limit,shown", CASES, ids=[case[0] for case in CASES])
def test_a_field_at_its_limit_and_one_over(app, ctx, name, who, url, form, field, limit, shown):
    browser = ctx[who]
    db = connect(app.config["DATABASE"])
    before = _snapshot(db)
    refused = browser.post(_url(url, ctx), {**form(ctx), field: _value(limit + 1)})
    assert refused.status_code == 422, name
    assert TOO_LONG.format(limit) in refused.get_data(as_text=True)
    assert _snapshot(db) == before
    # Still in the field after the refusal, so nothing typed is lost.
    assert _value(limit + 1) in refused.get_data(as_text=True)

    accepted = browser.post(_url(url, ctx), {**form(ctx), field: _value(limit)})
    assert accepted.status_code == 303, accepted.get_data(as_text=True)[-2000:]
    # shown is read by the one who posted, or by the participant when it starts with "p:".
    reader = ctx["p"] if shown and shown.startswith("p:") else browser
    page = reader.get(_url(shown.removeprefix("p:"), ctx) if shown else accepted.location).get_data(as_text=True)
    assert _value(limit) in page
    db.close()
