"""The agenda as Markdown and the votes and actions as CSV: readable, and never markup or formulas."""
import csv
import io
import json
import re

import pytest
from conftest import WORKSHOP_FORM, at_step
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_transfer import rich_workshop

from toolkit import action as actions
from toolkit import agenda, exports, transfer
from toolkit import workshop as workshops

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
HOSTILE = ["# Heading", "## Kop\n\n# Another", "[click](javascript:alert(1))", "![pixel](https://evil.example/p.png)",
           "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<!-- hidden -->", "a | b | c",
           "line\n\n- a list\n1. and more", "`code` and ```fence```", "***", "---", "===", "    indented code",
           "> quote", "https://evil.example and www.evil.example and someone@evil.example", "[ref]: https://x",
           "&amp; &#60;b&#62; &lt;", "snake_case *bold* __strong__ ~~gone~~ $x$", "trailing \\", "2027) year",
           "=SUM(A1:A9)", "+31 6 1234", "-5", "@handle", "\tTab", "\rReturn", " =1+1", "'quoted'", '"double"',
           "a;b,c", "x\x00y\x07z\x1b[31m\x7f\x85\u2028\u2029", "Ünïcödé — “quotes” – €",
           "\u202eevil\u202c"]
# Any unicode, control characters, markup and formula starts, and the hostile strings above.
words = st.text(min_size=1, max_size=60) | st.sampled_from(HOSTILE) | st.lists(
    st.sampled_from(HOSTILE + ["x", " ", "\n", "\\"]), min_size=1, max_size=6).map("".join)
# What plain text keeps of a value: control characters go and line breaks become spaces.
GONE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def normal(value: str) -> str:
    """value as the reader of the Markdown should see it, on one line."""
    return re.sub(r"\s*[\t\n\r\u2028\u2029]\s*", " ", GONE.sub("", value)).strip()


def unescape(markdown: str) -> str:
    """CommonMark's rule: a backslash before ASCII punctuation stands for that character."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


@pytest.mark.parametrize("value", HOSTILE)
def test_plain_text_is_escaped_and_nothing_else_changes(value):
    escaped = exports.plain(value)
    assert "\n" not in escaped and "\r" not in escaped
    assert unescape(escaped) == normal(value)
    # Every character Markdown or HTML could read as markup is escaped.
    bare = re.sub(r"\\[!-/:-@\[-`{-~]", "", escaped)
    assert not set(bare) & set("\\`*_[]<>#|~$&@")
    assert not re.match(r"[-+=]|\d+[.)]|\s", escaped)  # nothing that opens a list or code block


@SETTINGS
@given(value=words)
def test_any_text_is_escaped_and_nothing_else_changes(value):
    test_plain_text_is_escaped_and_nothing_else_changes(value)


def test_addresses_are_not_made_links_by_github():
    escaped = exports.plain("See https://evil.example, WWW.evil.example or me@evil.example")
    assert "https\\://" in escaped and "WWW\\.evil" in escaped and "me\\@evil" in escaped


def test_text_of_several_lines_keeps_its_lines_as_paragraphs():
    assert exports.paragraphs("First line\r\n\r\n# not a heading\n- not a list\n\n") == [
        "First line", "\\# not a heading", "\\- not a list"]


# The Markdown read back by a CommonMark parser with GitHub's tables and strikethrough.

def _parser():
    """CommonMark with GitHub's tables and strikethrough (markdown-it-py, in the test extra)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


LINES = re.compile(r"[\n\r\u2028\u2029]+")
# Keys whose values choose how something is shown rather than being shown.
CHOICES = {"language", "origin", "recommendation_origin", "key", "status", "quadrant", "role", "uid"}


def twin(value, memo: dict, key=None):
    """The agenda with every text replaced by a plain word per line: the same shape, nothing to escape."""
    if isinstance(value, dict):
        return {k: twin(v, memo, k) for k, v in value.items()}
    if isinstance(value, list):
        return [twin(v, memo, key) for v in value]
    if isinstance(value, str) and key not in CHOICES:
        lines = [line for line in LINES.split(value) if exports.plain(line)]
        return "\n".join(memo.setdefault(line, f"word{len(memo)}") for line in lines)
    return value


def _shape(tokens) -> list:
    """The parsed document without its text: block structure and inline markup."""
    shape = []
    for token in tokens:
        shape.append((token.type, token.tag, token.level))
        for child in token.children or []:
            if child.type not in ("text", "text_special"):
                shape.append((child.type, child.tag))
    return shape


def _texts(tokens) -> list[str]:
    return ["".join(child.content for child in token.children if child.type in ("text", "text_special"))
            for token in tokens if token.type == "inline"]


def check_markdown(built: dict, values: list[str], lines: list[str] = ()):
    """The Markdown has the shape of the same agenda without markup, and shows every value as typed."""
    markdown = exports.markdown(built)
    parser = _parser()
    tokens = parser.parse(markdown)
    assert _shape(tokens) == _shape(parser.parse(exports.markdown(twin(built, {}))))
    rendered = parser.render(markdown)
    assert "<a " not in rendered and "<img" not in rendered and "<script" not in rendered
    assert rendered.count("<h1>") == 1
    assert not any(token.type in ("html_block", "html_inline", "code_block", "fence", "code_inline")
                   for token in tokens for token in [token, *(token.children or [])])
    shown = "\n".join(_texts(tokens))
    for value in values:
        assert normal(value) in shown, value
    for value in lines:
        for line in LINES.split(value):
            assert normal(line) in shown, line
    return markdown


def test_agenda_markdown_has_every_part(db, facilitator):
    workshop = rich_workshop(db, facilitator.account["id"], drafts=False)
    workshop = workshops.update(db, workshop["id"], {**WORKSHOP_FORM, "language": "en"})
    built = agenda.build(db, workshop, 3)
    markdown = exports.markdown(built)
    for part in ("# Actieagenda Twente", "## Who took part", "| Stakeholder group | Participants |",
                 "## Priorities", "| Priority | Companies | Education and training | Government | Workers | Other |",
                 "### Our vision", "Everyone learns.\n\nAll life long.", "## Summary", "## Action plan",
                 "#### 1. Learning rights for every worker", "- **Lead:** FNV", "- **Partners:** Acme",
                 "- **Volunteers:** Acme (lead), ROC (partner)", "- **Timing:** Q1 2027 – December 2027 — Before the summer", "- **Answers:** Own driver",
                 "- **First step:** Put it on the agenda", "- **Status:** under way", "- **Progress:** Begun in May",
                 "- **Impact:** 4.5 · **Effort:** 1.5 · **Ratings:** 2", "### Impact and effort", "## Comments",
                 "## Annex: all results", "| Own driver (**Added by the workshop**) | 1 | 3 | 1 | 0 | 0 | 5 | yes |",
                 "*From the study*", "## Source reference", "| Anna | Acme | Companies |"):
        assert part in markdown, part
    check_markdown(built, ["Own driver", "Same as the other one"], ["Everyone learns.\nAll life long."])


def test_changes_since_the_last_draft_are_listed(db, facilitator):
    workshop = rich_workshop(db, facilitator.account["id"], drafts=False)
    workshop = workshops.update(db, workshop["id"], {**WORKSHOP_FORM, "language": "en"})
    built = agenda.build(db, workshop, 2)
    built["changes"] = {"since": 1, "added": ["# Added", "[x](y)"], "removed": ["<b>gone</b>"], "changed": [],
                        "progress": ["- begun"], "moved": [{"title": "| moved |", "from": 1, "to": 3}],
                        "new_priorities": ["***"], "dropped_priorities": ["`old`"]}
    markdown = check_markdown(built, ["# Added", "[x](y)", "<b>gone</b>", "- begun", "New priority: ***",
                                      "No longer a priority: `old`", "| moved |: from place 1 to 3"])
    assert "## Changes since draft v1" in markdown
    download = facilitator.get(f"/facilitator/workshops/{workshop['code']}/agenda.md").get_data(as_text=True)
    assert "Changes since" not in download  # no draft yet: nothing to compare with
    agenda.export_draft(db, workshop)
    download = facilitator.get(f"/facilitator/workshops/{workshop['code']}/agenda.md").get_data(as_text=True)
    assert "## Changes since draft v1\n\nNothing changed since draft v1." in download


def test_dutch_agenda_markdown_is_dutch(db, facilitator):
    workshop = rich_workshop(db, facilitator.account["id"], drafts=False)
    markdown = exports.markdown(agenda.build(db, workshop, 3))
    assert "## Wie deden er mee" in markdown and "## Actieplan" in markdown and "## Who took part" not in markdown


def test_markdown_tolerates_an_agenda_without_the_new_parts():
    old = {"language": "en", "version": 1, "workshop": {"title": "Old", "region": "R", "sector": "S",
                                                         "date": "2026-01-01", "anonymous": True},
           "participation": {"total": 0, "groups": [], "organisations": [], "participants": []},
           "sections": {"recommendations": [{"title": "Adopted", "adopted": True, "origin": "study"}]},
           "priorities": [], "actions": [{"recommendation": "R1", "what": "Do", "lead": "Us"}]}
    markdown = exports.markdown(old)
    assert "#### 1. Do" in markdown and "- **Lead:** Us" in markdown and "- Adopted" in markdown
    assert "not listed" in markdown
    assert exports.markdown({}).startswith("# ")


@SETTINGS
@given(said=words, long=st.booleans())
def test_any_text_in_every_field_reaches_every_export_intact_or_neutralised(db, facilitator, said, long):
    workshop = rich_workshop(db, facilitator.account["id"], drafts=False, words=said, long=long)
    stored = stored_texts(db, workshop)
    # Markdown: the same shape as without the text, and every value shown as typed.
    built = agenda.build(db, workshop, 1)
    check_markdown(built, [v for k, v in stored.items() if k not in ("explanation", "vision", "summary")],
                   [stored["explanation"], stored["vision"], stored["summary"]])
    # CSV: every value in its own cell, none of them a formula.
    votes = read_csv(exports.votes_csv(db, workshop), "nl")
    acted = read_csv(exports.actions_csv(db, workshop), "nl")
    cells = {cell for row in votes + acted for cell in row}
    for key in ("title", "what", "lead", "partners", "timeline", "resources", "indicator", "first_step", "progress"):
        assert spreadsheet_text(stored[key]) in cells, key
    # JSON: the values themselves, and a round trip that changes nothing.
    data = transfer.export_workshop(db, workshop)
    assert stored["title"] in [item["title"] for item in data["items"]]
    assert stored["organisation"] == data["participants"][0]["organisation"]
    copied = transfer.import_workshop(db, facilitator.account["id"], json.loads(json.dumps(data)))
    assert transfer.export_workshop(db, copied) == data


def stored_texts(db, workshop) -> dict:
    """What the first participant, the room's own item, the first action and the texts hold now."""
    first = actions.for_workshop(db, workshop)[0]
    person = db.execute("SELECT name, organisation FROM participants WHERE workshop_id = ? ORDER BY id",
                        [workshop["id"]]).fetchone()
    own = db.execute("SELECT title, explanation FROM items WHERE workshop_id = ? AND catalogue_id IS NULL "
                     "ORDER BY id", [workshop["id"]]).fetchone()
    body = db.execute("SELECT body FROM comments WHERE workshop_id = ? ORDER BY id DESC", [workshop["id"]]).fetchall()
    written = {row["key"]: row["body"] for row in db.query(
        "SELECT key, body FROM agenda_texts WHERE workshop_id = ?", [workshop["id"]])}
    return {"name": person[0], "organisation": person[1], "title": own[0], "explanation": own[1],
            "comment": [b[0] for b in body if b[0] not in ("Off topic", "From the facilitator")][0],
            **{key: first[key] for key in ("what", "lead", "partners", "timeline", "resources", "indicator",
                                           "first_step", "progress")},
            "vision": written.get("vision", ""), "summary": written.get("summary", "")}


def read_csv(text: str, lang: str) -> list[list[str]]:
    """CSV as a spreadsheet reads it; every row as long as the header, no cell a formula."""
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=";" if lang == "nl" else ","))
    assert rows and all(len(row) == len(rows[0]) for row in rows)
    for row in rows:
        for cell in row:
            assert not cell.startswith(exports.FORMULA_STARTS) and not cell.lstrip().startswith(exports.FORMULA_STARTS)
            assert not GONE.search(cell) and "\r" not in cell
    return rows


def spreadsheet_text(value: str) -> str:
    """What a cell shows for value: control characters gone, a formula start behind an apostrophe."""
    value = GONE.sub("", value).replace("\r\n", "\n").replace("\r", "\n")
    formula = value.startswith(exports.FORMULA_STARTS) or value.lstrip().startswith(exports.FORMULA_STARTS)
    return "'" + value if formula else value


@pytest.mark.parametrize("value", HOSTILE)
def test_csv_cells_are_never_formulas(value):
    assert spreadsheet_text(value) == exports.cell(value)
    assert exports.cell(7) == 7 and exports.cell(None) == ""


def test_votes_csv_counts_per_stakeholder_group(db, facilitator):
    workshop = rich_workshop(db, facilitator.account["id"], drafts=False)
    rows = read_csv(exports.votes_csv(db, workshop), "nl")
    assert rows[0][:2] + rows[0][3:] == ["Stap", "Soort", "Punt", "Bedrijven", "Onderwijs en opleiding", "Overheid",
                                         "Werkenden", "Overig", "Totaal stippen", "Stemmers", "Opgenomen", "Verborgen"]
    own = [row for row in rows if row[3] == "Own driver"]
    # Ben's dot on the duplicate joined his own on the item it was merged into.
    assert own == [["Drijfveren", "Drijfveer", "Toegevoegd door de workshop", "Own driver",
                    "1", "3", "1", "0", "0", "5", "3", "ja", "nee"]]
    assert not [row for row in rows if row[3] == "Own driver again"]  # merged into Own driver
    recommendation = [row for row in rows if row[9] == "140"]
    assert len(rows) == 1 + len([i for i in workshops.items(db, workshop, include_hidden=True) if not i["merged_into"]])
    assert recommendation and recommendation[0][4:7] == ["40", "100", "0"]


def test_actions_csv_has_every_field(db, facilitator):
    workshop = rich_workshop(db, facilitator.account["id"], drafts=False)
    workshop = workshops.update(db, workshop["id"], {**WORKSHOP_FORM, "language": "en", "dots": "5"})
    rows = read_csv(exports.actions_csv(db, workshop), "en")
    header, first = rows[0], dict(zip(rows[0], rows[1]))
    assert len(rows) == 3 and header[:3] == ["Recommendation", "In the agenda", "Action"]
    assert {key: first[key] for key in ("Action", "Answers", "Lead", "Partners", "Volunteers", "Start", "End",
                                        "Remarks on timing", "First step", "Status", "Progress", "Impact", "Effort",
                                        "Ratings")} == {
        "Action": "Learning rights for every worker", "Answers": "Own driver", "Lead": "FNV",
        "Partners": "Acme", "Volunteers": "Acme (lead); ROC (partner)", "Start": "2027-Q1", "End": "2027-12",
        "Remarks on timing": "Before the summer", "First step": "Put it on the agenda", "Status": "under way",
        "Progress": "Begun in May", "Impact": "4.5", "Effort": "1.5", "Ratings": "2"}
    dutch = read_csv(exports.actions_csv(db, workshops.update(db, workshop["id"], WORKSHOP_FORM)), "nl")
    assert dutch[1][header.index("Impact")] == "4,5"  # Dutch spreadsheets read a decimal comma


# Through HTTP.

def test_downloads_have_safe_names_and_types(db, facilitator):
    workshop = rich_workshop(db, facilitator.account["id"], drafts=False,
                             form={**WORKSHOP_FORM, "title": '"; filename=evil.exe; x="'})
    code = workshop["code"]
    for path, content_type, name in (
            ("agenda.md", "text/markdown; charset=utf-8", f"agenda-{code}.md"),
            ("votes.csv", "text/csv; charset=utf-8", f"votes-{code}.csv"),
            ("actions.csv", "text/csv; charset=utf-8", f"actions-{code}.csv"),
            ("workshop.json", "application/json", f"workshop-{code}.json")):
        response = facilitator.get(f"/facilitator/workshops/{code}/{path}")
        assert response.status_code == 200, path
        assert response.headers["Content-Type"] == content_type
        assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    votes = facilitator.get(f"/facilitator/workshops/{code}/votes.csv").get_data()
    assert votes.startswith(b"\xef\xbb\xbf") and votes.decode("utf-8") == exports.votes_csv(db, workshop)
    markdown = facilitator.get(f"/facilitator/workshops/{code}/agenda.md").get_data(as_text=True)
    assert markdown.startswith('# "; filename=evil.exe; x="\n')


def test_the_review_step_links_every_download(db, facilitator):
    workshop = workshops.create(db, facilitator.account["id"], WORKSHOP_FORM)
    page = facilitator.get(f"/facilitator/workshops/{workshop['code']}?step=review").get_data(as_text=True)
    for path in ("agenda.md", "votes.csv", "actions.csv", "workshop.json"):
        url = f"/facilitator/workshops/{workshop['code']}/{path}"
        assert f'href="{url}"' in page
        assert facilitator.get(url).status_code == 200


def test_exports_of_an_empty_workshop(db, facilitator):
    workshop = at_step(db, workshops.create(db, facilitator.account["id"], WORKSHOP_FORM), "review")
    check_markdown(agenda.build(db, workshop, 1), [WORKSHOP_FORM["title"]])
    assert len(read_csv(exports.actions_csv(db, workshop), "nl")) == 1
    assert len(read_csv(exports.votes_csv(db, workshop), "nl")) == 1 + len(workshops.items(db, workshop))
