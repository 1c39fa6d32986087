"""Every route, found in the app's URL map: another workshop's ids answer exactly like missing ones."""
import re
from urllib.parse import quote, urlencode

import pytest
from conftest import PASSWORD, WORKSHOP_FORM, Visitor, join, make_facilitator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_transfer import rich_workshop

from toolkit import action as actions
from toolkit import agenda, catalogue, cofacilitator, comment, create_app, participant
from toolkit import workshop as workshops
from toolkit.db import connect, migrate

# Rules the loops below leave out, and why. 'static' serves files from static/ and knows no workshop.
SKIPPED = {"static"}
# HEAD answers like GET without a body and OPTIONS is Flask's own; GET and POST are what a form or
# a link can send, and both are tried on every rule (a 405 must also look the same either way).
METHODS = ("GET", "POST")
# A code made of characters no join code uses, so it can never name a real workshop.
MISSING_CODE = "ZZZZ10"
MISSING_IDS = (10**9, 2**70)  # an id nobody has, and one larger than SQLite's integers


def workshop_tables(db, workshop_id: int) -> dict:
    """Every row that belongs to the workshop, table by table: to see that nothing changed it."""
    people = "(SELECT id FROM participants WHERE workshop_id = :w)"
    queries = {table: f"SELECT * FROM {table} WHERE workshop_id = :w" for table in (
        "workshops", "items", "participants", "actions", "drafts", "step_settings", "comments",
        "agenda_texts", "edits", "workshop_facilitators", "invitations", "audit")}
    queries["workshops"] = "SELECT * FROM workshops WHERE id = :w"
    for table in ("votes", "step_done", "action_volunteers", "action_ratings"):
        queries[table] = f"SELECT * FROM {table} WHERE participant_id IN {people}"
    return {table: sorted(map(repr, db.query(sql, {"w": workshop_id}))) for table, sql in queries.items()}


def _open(db, workshop):
    """The workshop open again (rich_workshop closes it): a closed workshop would hide a leak behind 'closed'."""
    workshops.set_closed(db, workshop, False)
    return workshops.get(db, workshop["id"])


def world_values(db, workshop) -> dict:
    """A real value for every URL converter, taken from workshop."""
    own = [i for i in workshops.items(db, workshop, include_hidden=True) if i["origin"] == "workshop"]
    behalf = [p for p in participant.in_room(db, workshop) if p["on_behalf"]]
    someone = participant.in_room(db, workshop)[0]
    return {
        "code": workshop["code"],
        "item_id": own[0]["id"],
        "comment_id": comment.for_workshop(db, workshop)[0]["id"],
        "participant_id": behalf[0]["id"],
        "action_id": actions.for_workshop(db, workshop)[0]["id"],
        "version": agenda.drafts(db, workshop)[0]["version"],
        "rejoin": someone["rejoin_code"],
        "flag": "hidden",
        "step": "drivers",
        "key": "vision",
        "token": "no-such-setup-link",
        "facilitator_id": cofacilitator.team(db, workshop)[-1]["id"],
    }


# Converters whose values are not ids of a workshop: only the real value and a missing one exist.
MISSING = {"code": [MISSING_CODE], "item_id": list(MISSING_IDS), "comment_id": list(MISSING_IDS),
           "participant_id": list(MISSING_IDS), "action_id": list(MISSING_IDS), "version": list(MISSING_IDS),
           "rejoin": ["ZZZZ1000"], "flag": ["nope"], "step": ["nope"], "key": ["nope"],
           "token": ["no-such-setup-link"], "facilitator_id": list(MISSING_IDS)}
# Ids a form may carry in its body, as a merge or an action names items.
BODY_IDS = ("source_id", "target_id", "recommendation_id", "answers_item_id", "item_id")
# A form that would do something on most routes, were the ids in it accepted.
BODY = {"hidden": "1", "adopted": "1", "dots": "1", "done": "1", "closed": "1", "change": "lock",
        "step": "drivers", "title": "Stray", "explanation": "Stray", "body": "Stray", "what": "Stray",
        "lead": "Stray", "role": "lead", "impact": "3", "effort": "3", "status": "done", "progress": "Stray",
        "version": "1", "name": "Stray", "organisation": "Stray", "request_token": "fixed-token"}
# On these participant routes a join code is what the room is given to get in: any browser with
# B's code may reach B's join page (or be sent there); that is an invitation, not a leak. B's
# ids under A's code are still checked on them.
CODE_IS_THE_KEY = {"participant.join", "participant.current_step", "participant.rejoin_link",
                   "participant.rejoin_with_code"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The app on a database of this module's own: building the two workshops once saves seconds per test."""
    folder = tmp_path_factory.mktemp("routes")
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE": str(folder / "t.db")})
    db = connect(app.config["DATABASE"])
    migrate(db)
    catalogue.load(db)
    db.close()
    return app


@pytest.fixture(scope="module")
def db(app):
    """A connection to the module's database."""
    conn = connect(app.config["DATABASE"])
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def world(app, db):
    """Workshops A and B of two facilitators, with something in every table; A's facilitator and participant.

    Shared by the tests below: each compares B with itself before and after, and B's ids with
    missing ones, so what an earlier test did to A changes no verdict.
    """
    fa = make_facilitator(db, "a@example.org", "Fa")
    fb = make_facilitator(db, "b@example.org", "Fb")
    # Drafts are made here rather than by rich_workshop: each document takes a while to build.
    a = _open(db, rich_workshop(db, fa["id"], drafts=False))
    b = _open(db, rich_workshop(db, fb["id"], {**WORKSHOP_FORM, "title": "B"}, drafts=False))
    agenda.export_draft(db, a)
    agenda.export_draft(db, b)
    agenda.export_draft(db, b)  # B has a draft number A has not
    # Each has a co-facilitator of its own, so the team's routes have real ids to try.
    cofacilitator.invite(db, a, make_facilitator(db, "coa@example.org", "Co A")["email"], fa)
    cofacilitator.invite(db, b, make_facilitator(db, "cob@example.org", "Co B")["email"], fb)
    facilitator = Visitor(app.test_client())
    assert facilitator.post("/login", {"email": "a@example.org", "password": PASSWORD}).status_code == 303
    facilitator._token = None
    person = join(app, a, name="Pia", organisation="Acme A")
    person.get(f"/w/{a['code']}")  # shows, and so uses up, the welcome message
    values_b = world_values(db, b)
    values_b["version"] = agenda.drafts(db, b)[0]["version"]
    return {"a": a, "b": b, "A": world_values(db, a), "B": values_b,
            "as": {"facilitator": facilitator, "participant": person}}


def rules(app):
    """Every rule of the app but the skipped ones, in a stable order."""
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint not in SKIPPED), key=lambda r: r.rule)


def url(rule, values: dict) -> str:
    """The rule's path with each converter's value put in as typed, quoted like a browser would."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: quote(str(values[m.group(1)]), safe=""), rule.rule)


TOKENS = re.compile(r'(name="(?:csrf_token|request_token)" value=")[^"]*"|("X-CSRFToken": ")[^"]*"')


def normal(response, path: str) -> tuple:
    """Status, where it leads and the body, with this request's own path and tokens taken out."""
    body = response.get_data(as_text=True)
    location = response.headers.get("Location", "")
    for variant in {path, quote(path, safe=""), quote(path, safe="/"), path.replace("&", "&amp;")}:
        body = body.replace(variant, "<PATH>")
        location = location.replace(variant, "<PATH>")
    body = TOKENS.sub(lambda m: (m.group(1) or m.group(2)) + '…"', body)
    return response.status_code, location, body


def send(browser, method: str, path: str, body: dict, htmx=False):
    """One request as that browser, POSTs with a valid CSRF token."""
    if method == "GET":
        return browser.get(path, headers={"HX-Request": "true"} if htmx else {})
    return browser.post(path, body, htmx=htmx)


def _diff(one: str, other: str) -> str:
    """The lines where two bodies differ, for the failure message."""
    import difflib
    return "\n" + "\n".join(difflib.unified_diff(one.splitlines(), other.splitlines(), lineterm="", n=0))


def has_safety_headers(response):
    """The headers every answer carries: no framing, no sniffing, no referrer to other sites."""
    policy = response.headers.get("Content-Security-Policy", "")
    return ("frame-ancestors 'none'" in policy and "script-src 'self'" in policy
            and response.headers.get("X-Content-Type-Options") == "nosniff"
            and response.headers.get("Referrer-Policy") in ("same-origin", "no-referrer"))


def variants(rule, world):
    """Pairs of (values with B's, values with a missing one) for each converter, and all at once."""
    names = [n for n in rule.arguments if n in world["B"] and world["A"][n] != world["B"][n]]
    for name in names:
        for missing in MISSING[name]:
            yield name, {**world["A"], name: world["B"][name]}, {**world["A"], name: missing}
    if len(names) > 1:
        yield "all", {**world["A"], **{n: world["B"][n] for n in names}}, \
            {**world["A"], **{n: MISSING[n][0] for n in names}}


def foreign_items(db, workshop) -> dict:
    """Ids a form could name in B: its own item and an adopted recommendation."""
    own = [i for i in workshops.items(db, workshop, include_hidden=True) if i["origin"] == "workshop"]
    adopted = actions.adopted_recommendations(db, workshop)
    return {"source_id": own[0]["id"], "target_id": own[-1]["id"], "recommendation_id": adopted[0]["id"],
            "answers_item_id": own[0]["id"], "item_id": own[0]["id"]}


def test_every_route_answers_another_workshops_ids_like_missing_ones(app, db, world):
    before = workshop_tables(db, world["b"]["id"])
    checked = 0
    for rule in rules(app):
        for who, browser in world["as"].items():
            for name, theirs, missing in variants(rule, world):
                if name in ("code", "all") and rule.endpoint in CODE_IS_THE_KEY:
                    continue
                for method in METHODS:
                    for htmx in (False, True):
                        a_path, b_path = url(rule, theirs), url(rule, missing)
                        with_b = send(browser, method, a_path, BODY, htmx)
                        without = send(browser, method, b_path, BODY, htmx)
                        where = f"{who} {method} {rule.rule} with B's {name}{' (htmx)' if htmx else ''}"
                        assert with_b.status_code < 500, where
                        assert has_safety_headers(with_b), where
                        assert normal(with_b, a_path) == normal(without, b_path), where + _diff(
                            normal(with_b, a_path)[2], normal(without, b_path)[2])
                        checked += 1
    assert checked > 200
    assert workshop_tables(db, world["b"]["id"]) == before


def references_to(db, workshop_id: int, item_ids: set) -> list:
    """Rows of a workshop that point at any of item_ids: an action, comment, vote or merge across workshops."""
    found = []
    for table, column in (("items", "merged_into"), ("actions", "recommendation_id"),
                          ("actions", "answers_item_id"), ("comments", "item_id")):
        found += [(table, column, row["id"]) for row in db.query(
            f"SELECT id, {column} AS ref FROM {table} WHERE workshop_id = ?", [workshop_id]) if row["ref"] in item_ids]
    found += [("votes", "item_id", row["item_id"]) for row in db.query(
        "SELECT item_id FROM votes WHERE participant_id IN (SELECT id FROM participants WHERE workshop_id = ?)",
        [workshop_id]) if row["item_id"] in item_ids]
    return found


def test_ids_in_a_form_from_another_workshop_are_refused(app, db, world):
    """The ids a form's body carries (a merge, an action's recommendation) are checked like the URL's."""
    before = workshop_tables(db, world["b"]["id"])
    theirs = foreign_items(db, world["b"])
    b_items = {i["id"] for i in workshops.items(db, world["b"], include_hidden=True)}
    missing = {key: MISSING_IDS[0] for key in theirs}
    for rule in rules(app):
        if "POST" not in rule.methods:
            continue
        for who, browser in world["as"].items():
            path = url(rule, world["A"])
            # B's ids first, then missing ones, each with its own request token (the same token
            # twice is taken as one form sent again). A route that ignores these fields may act on
            # A the first time only, so an accepted first answer is judged by the rows below.
            with_b = send(browser, "POST", path, {**BODY, **theirs, "request_token": "b"})
            without = send(browser, "POST", path, {**BODY, **missing, "request_token": "m"})
            where = f"{who} POST {rule.rule} naming B's ids in its form"
            assert with_b.status_code < 500 and without.status_code < 500, where
            if with_b.status_code >= 400 and without.status_code >= 400:
                assert normal(with_b, path)[:2] == normal(without, path)[:2], where
            assert references_to(db, world["a"]["id"], b_items) == [], where
    assert workshop_tables(db, world["b"]["id"]) == before


# What people type, and ids made up or borrowed; see tests/test_bad_input.py.
anything = st.text(max_size=80) | st.sampled_from(
    ["", " ", "0", "-1", "1.5", "1e9", "999999999999999999999", "x" * 3000, "\x00\x07\x1b", "\u202e",
     "<script>alert(1)</script>", "{{ 7*7 }}", "' OR 1=1 --", "../../etc/passwd", "%2e%2e%2f", "%00",
     "hx-get=/logout", "Ünïcödé — “”", "🙂" * 50])
FIELDS = sorted(set(BODY) | set(BODY_IDS) | set(WORKSHOP_FORM) | {
    "stakeholder_group", "code", "rejoin_code", "method", "cap", "named_votes", "minutes", "starts", "ends",
    "timeline", "resources", "indicator", "first_step", "partners", "kind", "email", "password", "lang",
    "next", "anonymous", "structure_only", "choose_what", "theirs_what", "facilitator_id", "workshop_id"})
SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def sendable(value: str) -> str:
    """value as a browser would send it: lone surrogates cannot be UTF-8 (see test_bad_input.py)."""
    return value.encode("utf-8", "replace").decode("utf-8")


QUERY = ("before", "step", "rev", "next", "lang")


def visible_message(response) -> bool:
    """Whether a refusal says something to the person: the error page, the form's message, or htmx's login."""
    body = response.get_data(as_text=True)
    if response.status_code == 401 and response.headers.get("HX-Redirect"):
        return True  # htmx follows this to the login page, which says what to do
    return 'class="message error"' in body or re.search(r"<h1>[^<]*\S[^<]*</h1>", body) is not None


@SETTINGS
@given(data=st.data())
def test_generated_addresses_and_forms_never_fail_and_refusals_say_why(app, db, world, data):
    rule = data.draw(st.sampled_from(rules(app)), "rule")
    who = data.draw(st.sampled_from(sorted(world["as"])), "who")
    values = {}
    for name in rule.arguments:
        real = [world["A"].get(name), world["B"].get(name)] + MISSING.get(name, [])
        if rule.endpoint in CODE_IS_THE_KEY:
            real.remove(world["B"].get(name))  # B's code lets anyone join B, as it should
        values[name] = data.draw(st.sampled_from([v for v in real if v is not None])
                                 | anything.filter(lambda v: v not in (".", "..", "")) | st.integers(-5, 2**80),
                                 name)
    body = data.draw(st.dictionaries(st.sampled_from(FIELDS), anything.map(sendable), max_size=8), "body")
    method = data.draw(st.sampled_from(METHODS), "method")
    # The query strings pages use (paging, steps, revisions, where to go next), with any value.
    query = data.draw(st.dictionaries(st.sampled_from(QUERY), anything.map(sendable)
                                      | st.integers(-2**70, 2**70).map(str), max_size=3), "query")
    address = url(rule, values) + ("?" + urlencode(query) if query else "")
    before = workshop_tables(db, world["b"]["id"])
    response = send(world["as"][who], method, address, body, htmx=data.draw(st.booleans(), "htmx"))
    assert response.status_code < 500
    assert has_safety_headers(response)
    if 400 <= response.status_code < 500:
        assert visible_message(response), response.get_data(as_text=True)[:500]
    assert workshop_tables(db, world["b"]["id"]) == before
