"""The presenter view over HTTP: who may see it, what the room sees, and its live updates."""
import re
import xml.etree.ElementTree as ET

from conftest import PASSWORD, Visitor, join, make_facilitator

from toolkit import action as actions
from toolkit import consensus
from toolkit import step as steps
from toolkit import workshop as workshops
from toolkit.i18n import gettext_for

SVG = "{http://www.w3.org/2000/svg}"
NL = gettext_for("nl")  # the workshop's language


def _url(workshop, tail=""):
    return f"/facilitator/workshops/{workshop['code']}/present{tail}"


def _vote(app, db, workshop, votes):
    """Participants of the given groups put dots on drivers; returns the workshop at the drivers step."""
    workshops.set_step(db, workshop["id"], "drivers")
    workshop = workshops.get(db, workshop["id"])
    drivers = workshops.items(db, workshop, kinds=("driver",))
    for group, index, dots in votes:
        person = join(app, workshop, group=group)
        response = person.post(f"/w/{workshop['code']}/items/{drivers[index]['id']}/dots", {"dots": dots})
        assert response.status_code in (200, 303)
    return workshops.get(db, workshop["id"]), drivers


def _charts(page):
    return [ET.fromstring(svg) for svg in re.findall(r'<svg[^>]*class="chart".*?</svg>', page, re.S)]


def test_the_presenter_view_needs_a_login(visitor, workshop):
    for tail in ("", "/live?rev=0"):
        response = visitor.get(_url(workshop, tail))
        assert response.status_code == 302 and "/login" in response.location


def test_another_facilitators_workshop_looks_missing(app, db, workshop):
    other = make_facilitator(db, email="other@example.org")
    browser = Visitor(app.test_client())
    browser.post("/login", {"email": other["email"], "password": PASSWORD})
    assert browser.get(_url(workshop)).status_code == 404
    assert browser.get(_url(workshop, "/live?rev=0")).status_code == 404
    assert browser.get("/facilitator/workshops/ZZZZZZ/present").status_code == 404


def test_the_page_shows_the_join_code_link_and_qr_code(facilitator, workshop):
    response = facilitator.get(_url(workshop))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert workshop["code"] in page and f"/j/{workshop['code']}" in page
    qr = re.search(r'<svg[^>]*class="qr".*?</svg>', page, re.S).group(0)
    assert ET.fromstring(qr).get("role") == "img"
    assert 'lang="nl"' in page and NL("Who is in the room") in page  # the workshop's language
    assert "presenter.css" in page
    assert 'hx-trigger="every 1500ms"' in page
    assert f'rev={workshop["revision"]}' in page


def test_the_facilitator_page_links_to_the_presenter_view(facilitator, workshop):
    page = facilitator.get(f"/facilitator/workshops/{workshop['code']}").get_data(as_text=True)
    assert f'href="{_url(workshop)}"' in page


def test_who_is_in_the_room_per_group(app, facilitator, workshop):
    for group in ("companies", "education", "education"):
        join(app, workshop, group=group)
    page = facilitator.get(_url(workshop)).get_data(as_text=True)
    room = page[page.index('id="present-room-heading"'):]
    assert re.search(r"<strong>1</strong>\s*Bedrijven", room)
    assert re.search(r"<strong>2</strong>\s*Onderwijs en opleiding", room)
    assert re.search(r"<strong>3</strong>\s*Totaal", room)


def test_results_stay_hidden_until_revealed(app, facilitator, db, workshop):
    workshop, drivers = _vote(app, db, workshop, [("companies", 0, 2), ("education", 0, 3), ("education", 1, 1)])
    page = facilitator.get(_url(workshop)).get_data(as_text=True)
    assert NL("The results are hidden while the room votes.") in page
    assert _charts(page) == [] and drivers[0]["title"] not in page

    steps.set_revealed(db, workshop, "drivers", True)
    page = facilitator.get(_url(workshop)).get_data(as_text=True)
    [svg] = _charts(page)
    desc = svg.find(SVG + "desc").text
    # Highest total first, with its exact numbers per group.
    assert desc.startswith(f"{drivers[0]['title']}: 5 ")
    assert "Bedrijven 2, Onderwijs en opleiding 3, Overheid 0" in desc
    assert f"{drivers[1]['title']}: 1 " in desc
    # The text alternative holds the same numbers.
    table = page[page.index("<table>"):page.index("</table>")]
    row = table[table.index(drivers[0]["title"]):]
    row = row[:row.index("</tr>")]
    assert re.findall(r"<td>(\d+)</td>", row) == ["2", "3", "0", "0", "0", "2"]
    assert "<strong>5</strong>" in row


def test_the_consensus_verdict_is_shown_once_revealed(app, facilitator, db, workshop):
    workshop, drivers = _vote(app, db, workshop, [("companies", 0, 1), ("education", 0, 1), ("workers", 1, 1)])
    steps.set_revealed(db, workshop, "drivers", True)
    page = facilitator.get(_url(workshop)).get_data(as_text=True)
    svg = _charts(page)[0]
    shown = ["".join(t.itertext()) for t in svg.iter(SVG + "text")]
    support = consensus.support(db, workshop, "drivers")
    for driver in drivers[:2]:
        verdict = NL(consensus.VERDICTS[support[driver["id"]]["verdict"]])
        assert verdict in shown
        assert f'<td class="verdict {support[driver["id"]]["verdict"]}">{verdict}</td>' in page


def test_live_answers_nothing_while_nothing_changed(app, facilitator, db, workshop):
    revision = workshops.get(db, workshop["id"])["revision"]
    idle = facilitator.get(_url(workshop, f"/live?rev={revision}"), headers={"HX-Request": "true"})
    assert idle.status_code == 204 and idle.data == b""

    workshop, drivers = _vote(app, db, workshop, [("companies", 0, 2)])
    steps.set_revealed(db, workshop, "drivers", True)
    changed = facilitator.get(_url(workshop, f"/live?rev={revision}"), headers={"HX-Request": "true"})
    assert changed.status_code == 200
    fragment = changed.get_data(as_text=True)
    assert '<div id="present"' in fragment
    assert "<html" not in fragment and "HX-Request" in changed.headers["Vary"]
    new_revision = workshops.get(db, workshop["id"])["revision"]
    assert new_revision > revision and f"rev={new_revision}" in fragment
    assert drivers[0]["title"] in fragment
    again = facilitator.get(_url(workshop, f"/live?rev={new_revision}"), headers={"HX-Request": "true"})
    assert again.status_code == 204


def test_the_timer_shows_minutes_and_seconds(facilitator, db, workshop):
    steps.start_timer(db, workshop, "welcome", 5)
    page = facilitator.get(_url(workshop)).get_data(as_text=True)
    timer = re.search(r'<time id="timer" data-seconds-left="(\d+)"[^>]*>(\d+:\d\d)</time>', page)
    assert timer and 295 <= int(timer.group(1)) <= 300
    assert timer.group(2) in ("5:00", "4:59", "4:58", "4:57", "4:56", "4:55")


def test_the_actions_step_counts_actions_per_adopted_recommendation(facilitator, db, workshop):
    recommendation = workshops.items(db, workshop, kinds=("recommendation",))[0]
    workshops.set_adopted(db, workshop, recommendation["id"], True)
    for what in ("Leerrecht", "Scholingsfonds"):
        actions.propose(db, workshop, {"recommendation_id": recommendation["id"], "what": what, "lead": "ROC"})
    workshops.set_step(db, workshop["id"], "actions")
    page = facilitator.get(_url(workshop)).get_data(as_text=True)
    item = page[page.index('class="action-counts"'):]
    assert recommendation["title"] in item and re.search(r"2 acties|2 actions", item)


def test_titles_typed_by_people_are_escaped(app, facilitator, db, workshop):
    workshops.set_step(db, workshop["id"], "drivers")
    workshop = workshops.get(db, workshop["id"])
    workshops.add_item(db, workshop, {"title": "<script>alert(1)</script> & co"}, ("driver",))
    steps.set_revealed(db, workshop, "drivers", True)
    page = facilitator.get(_url(workshop)).get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page
    for svg in _charts(page):
        assert svg.get("role") == "img"
