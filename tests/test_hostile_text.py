"""Markup typed into every field stays text on every page: nothing runs, links, loads or acts for htmx."""
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import PASSWORD, WORKSHOP_FORM, Visitor, join, make_facilitator
from test_routes import rules, url, world_values
from test_transfer import rich_workshop

from toolkit import ROOT, agenda
from toolkit import step as steps
from toolkit import workshop as workshops

PAYLOAD = ('"><img src=x onerror=alert(1)><a href="javascript:alert(1)">x</a> hx-get="/logout" '
           'hx-trigger="load" {{7*7}} <script>alert(1)</script><style>*{}</style>')
# Names hold at most 120 characters: the same attack, without its script and style.
SHORT = PAYLOAD.split(" {{")[0] + " {{7*7}}"
# Pieces of the payload that must never reach a place where a browser or htmx acts on them.
MARKERS = ("alert(1)", "javascript:", "onerror", "{{7*7}}", "hx-trigger", "<script", "<style", "<img", "*{}")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "srcset", "poster", "xlink:href", "background"}


class Page(HTMLParser):
    """A page read the way a browser would, collecting what could act."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.text = []
        self._inside = []

    def handle_starttag(self, tag, attrs):
        self._inside.append(tag)
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>: an event handler attribute")
            acts = name in URL_ATTRIBUTES or name.startswith(("hx-", "data-hx-"))
            if acts and (value.strip().lower().startswith("javascript:") or any(m in value for m in MARKERS)):
                self.problems.append(f"<{tag} {name}={value[:80]!r}>: user text in an attribute that acts")
            if acts and name.startswith(("hx-get", "hx-post", "data-hx-")) and value == "/logout":
                self.problems.append(f"<{tag} {name}=/logout>: the payload's request")
        if tag == "img" and dict(attrs).get("src") == "x":
            self.problems.append("<img src=x>: the payload's image became an element")

    def handle_endtag(self, tag):
        if tag in self._inside:
            while self._inside and self._inside.pop() != tag:
                pass

    def handle_data(self, data):
        if self._inside and self._inside[-1] in ("script", "style"):
            if any(m in data for m in MARKERS):
                self.problems.append(f"<{self._inside[-1]}> holds user text")
        else:
            self.text.append(data)


def read(html: str) -> Page:
    """html parsed, with its problems and its text."""
    page = Page()
    page.feed(html)
    page.close()
    return page


@pytest.fixture
def hostile(app, db):
    """A workshop whose every typed field holds the payload, a participant named so, and its pages' people."""
    fa = make_facilitator(db, "h@example.org", SHORT)
    form = {**WORKSHOP_FORM, "title": PAYLOAD, "region": SHORT, "sector": SHORT, "anonymous": ""}
    workshop = rich_workshop(db, fa["id"], form, drafts=False, words=PAYLOAD)
    workshops.set_closed(db, workshop, False)
    workshop = workshops.get(db, workshop["id"])
    for step in ("drivers", "barriers", "recommendations", "actions"):
        steps.set_revealed(db, workshop, step, True)
    agenda.export_draft(db, workshop)
    facilitator = Visitor(app.test_client())
    assert facilitator.post("/login", {"email": "h@example.org", "password": PASSWORD}).status_code == 303
    facilitator._token = None
    person = join(app, workshop, name=SHORT, organisation=SHORT)
    return {"workshop": workshop, "values": world_values(db, workshop), "facilitator": facilitator,
            "participant": person}


def test_the_payload_stays_text_on_every_page(app, db, hostile):
    workshop, values = hostile["workshop"], hostile["values"]
    seen_whole = set()
    pages = 0
    for step in workshops.STEP_KEYS:
        workshops.set_step(db, workshop["id"], step)
        for rule in rules(app):
            if "GET" not in rule.methods or rule.endpoint in ("auth.setup", "participant.rejoin_link"):
                continue  # the setup link is used up; the rejoin link would only log this browser in again
            for who in ("facilitator", "participant"):
                for htmx in (False, True):
                    path = url(rule, values)
                    if rule.endpoint == "facilitator.workshop":
                        path += f"?step={step}"
                    if rule.endpoint.endswith(".live"):
                        path += "?step=welcome"  # another step than the room's: the live answer shows more
                    response = hostile[who].get(path, headers={"HX-Request": "true"} if htmx else {})
                    assert response.status_code < 500, path
                    if not response.mimetype.startswith("text/html"):
                        continue
                    html = response.get_data(as_text=True)
                    page = read(html)
                    assert page.problems == [], (who, path, page.problems)
                    text = " ".join(page.text)
                    if PAYLOAD in text:
                        seen_whole.add(rule.endpoint)
                    # Wherever part of the payload shows, it shows escaped.
                    assert "<script>alert" not in html and "<img src=x" not in html, path
                    pages += 1
    assert pages > 100
    # The whole payload reads back as text where the workshop's title and texts are shown.
    assert {"facilitator.workshop", "participant.current_step", "participant.history",
            "presenter.present", "facilitator.history", "facilitator.dashboard"} <= seen_whole


def test_the_markdown_export_makes_no_markup_of_it(hostile):
    from markdown_it import MarkdownIt

    code = hostile["workshop"]["code"]
    markdown = hostile["facilitator"].get(f"/facilitator/workshops/{code}/agenda.md").get_data(as_text=True)
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)
    page = read(html)
    assert page.problems == []
    assert "<a " not in html and "<img" not in html and "<script" not in html and "<style" not in html
    assert PAYLOAD in " ".join(page.text).replace("\n", " ") or "alert(1)" in " ".join(page.text)


# Every place a template or the web code marks something as safe HTML. Each carries text the
# server made, never what a person typed, and the test above renders them all with the payload:
#   shared/_matrix.html, presenter/_present.html `matrix|safe` and `result.svg|safe`: SVG from
#     toolkit/chart.py, which escapes every piece of text in it (chart._text: html.escape);
#   presenter/_present.html `qr|safe` (twice): the QR code of the join link, a server-made URL
#     with the join code, drawn by segno, its label escaped by chart;
#   facilitator/workshop.html: the join code (made from CODE_ALPHABET) and the join link,
#     escaped with |e, placed inside a translated sentence.
#   participant/_vote_area.html `.head|safe` and `.tail|safe`: an item's text, result and
#     comments, rendered by our own autoescaped templates once per revision for the whole room
#     (toolkit/web/views.py, Room.pieces) and placed around each participant's own controls;
#   participant/_live_shared.html `tails|safe`: the same results and comments, swapped in by id.
# toolkit/web/template_text.py marks the templates' translations safe, as Jinja's own gettext
# does: the text comes from our catalogues, and every value put in it is escaped.
# toolkit/exports.py's _Markup is not markupsafe's: it marks Markdown the exporter built from
# escaped text, and never reaches a page.
SAFE_USES = {
    ("templates/shared/_matrix.html", "matrix|safe"): 1,
    ("templates/presenter/_present.html", "qr|safe"): 2,
    ("templates/presenter/_present.html", "result.svg|safe"): 1,
    ("templates/presenter/_present.html", "matrix|safe"): 1,
    ("templates/facilitator/workshop.html", "|format(workshop.code|spaced_code)|safe"): 1,
    ("templates/facilitator/workshop.html", "|format(link|e, link|e)|safe"): 1,
    ("templates/participant/_item.html", ".head|safe"): 1,
    ("templates/participant/_item.html", ".tail|safe"): 1,
    ("templates/participant/_live_added.html", "shared|safe"): 1,
    ("templates/participant/_live_shared.html", "tails|safe"): 1,
}


# Where Python marks text as safe, and how often: the templates' gettext (a translation, its values
# escaped), and the drawings of one's own controls kept with holes for the page's tokens.
MARKUP_USES = {"toolkit/web/template_text.py": 4, "toolkit/web/views.py": 4}


def test_every_use_of_safe_markup_is_known():
    found = {}
    for path in sorted((ROOT / "templates").rglob("*.html")) + sorted((ROOT / "toolkit").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        name = str(path.relative_to(ROOT))
        assert "autoescape false" not in source.replace(" ", " ").lower(), name
        marked = len(re.findall(r"(?<![_\w])Markup\(|markupsafe", source))
        assert marked == MARKUP_USES.get(name, 0), name
        for match in re.finditer(r"[\w.()|,' ]*\|\s*safe", source):
            key = next((k for k in SAFE_USES if k[0] == name and match.group(0).endswith(k[1])), (name, match.group(0)))
            found[key] = found.get(key, 0) + 1
    assert found == SAFE_USES
    assert Path(ROOT / "toolkit" / "chart.py").read_text().count("html.escape") >= 1
