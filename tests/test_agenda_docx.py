"""The Word document: rendered from plain agenda data through a Word template, and read back."""
import io
import os
import re
import shutil
import subprocess
import uuid
import zipfile

import pytest
from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph
from docx2python import docx2python
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit import agenda_docx, agenda_template, figures
from toolkit.i18n import gettext_for

GROUPS = [("companies", "Companies"), ("education", "Education and training"),
          ("government", "Government"), ("workers", "Workers"), ("other", "Other")]

FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

CHAPTERS = ["Summary", "Changes since draft v2", "Introduction and method", "Who took part",
            "What drives the region", "Barriers and success factors", "Priorities",
            "Action plan", "Impact and effort", "Next steps", "Annex: all results",
            "Annex: comments", "Source reference"]


def by_group(*dots):
    return [{"key": key, "label": label, "dots": n} for (key, label), n in zip(GROUPS, dots)]


def item(title, kind_label, origin, dots, voters, groups, adopted=False, **extra):
    base = {"title": title, "explanation": "", "kind_label": kind_label, "origin": origin,
            "source": None, "reference": None, "derived_from": None, "dots": dots,
            "voters": voters, "by_group": by_group(*groups), "adopted": adopted}
    base.update(extra)
    return base


def action(number, recommendation, what, **extra):
    """An action as toolkit.agenda builds it, planned and unrated unless extra says so."""
    base = {"number": number, "recommendation": recommendation,
            "recommendation_origin": "study", "what": what, "why": "", "lead": "",
            "partners": "", "volunteers": [], "starts": "", "ends": "", "timing": "",
            "timeline": "", "resources": "", "indicator": "", "first_step": "",
            "status": "planned", "status_label": "planned", "progress": "",
            "progress_updated": "", "impact": None, "effort": None, "ratings": 0,
            "quadrant": None}
    base.update(extra)
    return base


def sample_agenda(**overrides):
    """A realistic English agenda (draft 3, in follow-up); keyword arguments replace keys."""
    drivers = [
        item("Staying competitive", "Driver", "study", 9, 6, (4, 2, 1, 2, 0), adopted=True,
             explanation="Companies turn to Smart Industry to keep up with competitors.",
             source="staying competitive, meeting higher quality requirements and "
                    "responding quickly to new customer demands",
             reference="TNO 2017 R10618, summary"),
        item("Meeting higher quality requirements", "Driver", "study", 4, 3, (1, 1, 0, 2, 0),
             source="meeting higher quality requirements",
             reference="TNO 2017 R10618, summary"),
        item("Ageing workforce in Twente", "Driver", "workshop", 3, 3, (0, 1, 1, 1, 0),
             explanation="Many skilled workers retire within ten years."),
        item("Responding quickly to new customer demands", "Driver", "study", 0, 0,
             (0, 0, 0, 0, 0), source="responding quickly to new customer demands",
             reference="TNO 2017 R10618, summary"),
    ]
    barriers = [
        item("Small companies cannot run a training department", "Barrier", "derived", 7, 5,
             (3, 3, 0, 1, 0), adopted=True,
             derived_from="Large companies have formal education departments, smaller ones "
                          "rely on informal learning",
             source="The summary names no barriers; this one follows from the finding.",
             reference="TNO 2017 R10618, summary"),
        item("No time for training next to production", "Barrier", "workshop", 2, 2,
             (1, 0, 0, 1, 0)),
    ]
    success_factors = [
        item("Master-apprentice constructions", "Success factor", "study", 5, 4,
             (2, 2, 0, 1, 0), source="use master-companion constructions",
             reference="TNO 2017 R10618, recommendation 3"),
    ]
    recommendations = [
        item("Invest in lifelong learning", "Recommendation", "study", 12, 8,
             (4, 3, 2, 3, 0), adopted=True,
             source="invest in lifelong learning; promote the retention of motivation and "
                    "employability of older workers",
             reference="TNO 2017 R10618, recommendation 1"),
        item("Explore innovative forms of cooperation with education", "Recommendation",
             "study", 8, 6, (2, 4, 1, 1, 0), adopted=True,
             source="explore innovative forms of cooperation with educational institutions",
             reference="TNO 2017 R10618, recommendation 4"),
        item("Regional skills fund for SMEs", "Recommendation", "workshop", 6, 4,
             (3, 0, 2, 1, 0), adopted=True,
             explanation="A fund that pays for training days in small companies."),
        item("New combinations of permanent and flexible work", "Recommendation", "study",
             1, 1, (1, 0, 0, 0, 0), source="develop new combinations of permanent and "
             "flexible work", reference="TNO 2017 R10618, recommendation 2"),
    ]
    priorities = sorted((i for section in (drivers, barriers, success_factors, recommendations)
                         for i in section if i["adopted"]), key=lambda i: -i["dots"])
    participants = [
        {"name": "Anna de Vries", "organisation": "Norma Hengelo", "group_label": "Companies"},
        {"name": "Bram Jansen", "organisation": "ROC van Twente",
         "group_label": "Education and training"},
        {"name": "Chantal Smit", "organisation": "Provincie Overijssel",
         "group_label": "Government"},
        {"name": "Dirk Bos", "organisation": "FNV Metaal", "group_label": "Workers"},
        {"name": "Eva Mulder", "organisation": "Schuitemaker", "group_label": "Companies"},
    ]
    actions = [
        action(1, "Invest in lifelong learning", "Open a shared learning hub for operators",
               why="Ageing workforce in Twente", lead="ROC van Twente",
               partners="Norma Hengelo, Schuitemaker",
               volunteers=[{"organisation": "Saxion", "role": "partner",
                            "role_label": "partner"}],
               starts="2027-Q2", ends="2028-Q4", timing="2027 Q2 – 2028 Q4",
               timeline="Pilot with two companies first",
               resources="€ 40,000 from the province", indicator="60 operators trained",
               first_step="Visit the hub in Hengelo with three companies",
               status="started", status_label="started",
               progress="Two companies signed up; the room is being fitted out.",
               progress_updated="2027-05-12", impact=4.2, effort=2.4, ratings=5,
               quadrant="quick_win"),
        action(2, "Invest in lifelong learning",
               "Mentor scheme pairing older and younger workers",
               why="Master-apprentice constructions", lead="FNV Metaal",
               partners="Norma Hengelo", starts="2027", ends="", timing="from 2027",
               indicator="20 pairs", impact=3.4, effort=3.8, ratings=4,
               quadrant="major_project"),
        action(3, "Regional skills fund for SMEs", "Draft the rules of the skills fund",
               recommendation_origin="workshop",
               why="Small companies cannot run a training department",
               volunteers=[{"organisation": "Provincie Overijssel", "role": "lead",
                            "role_label": "lead"},
                           {"organisation": "Rabobank Twente", "role": "partner",
                            "role_label": "partner"}],
               ends="2027-06", timing="until 2027 Q2", resources="staff time",
               indicator="rules adopted by the province", impact=2.0, effort=1.5, ratings=3,
               quadrant="fill_in"),
        action(4, "Explore innovative forms of cooperation with education",
               "Joint internship calendar of schools and companies", lead="Saxion",
               timing="2028"),
    ]
    comments = [
        {"item": "Staying competitive", "kind_label": "Driver", "comments": [
            {"body": "Competition comes from Germany as much as from Asia.",
             "author": "Anna de Vries", "organisation": "Norma Hengelo",
             "at": "2026-11-26 10:12"},
            {"body": "Quality is where we win, not price.", "author": None,
             "organisation": None, "at": "2026-11-26 10:15"}]},
        {"item": "Regional skills fund for SMEs", "kind_label": "Recommendation",
         "comments": [{"body": "Start small: one call for proposals in 2027.",
                       "author": "Chantal Smit", "organisation": "Provincie Overijssel",
                       "at": "2026-11-26 11:40"}]},
    ]
    agenda = {
        "language": "en",
        "version": 3,
        "generated_at": "2026-11-26 14:05",
        "workshop": {"title": "Smart skills agenda Twente", "region": "Twente",
                     "sector": "Manufacturing", "date": "2026-11-26",
                     "facilitator": "Fatima El Amrani", "anonymous": False, "dots": 5,
                     "closed": False},
        "study": {
            "title": "Smart Skills for Smart Industry. How work changes in the factory of "
                     "the future",
            "publisher": "TNO", "report_number": "TNO 2017 R10618", "year": 2017,
            "authors": ["Govert Gijsbers", "Tijs van den Broek", "Jop Esmeijer",
                        "Jos Sanders"],
            "reference": "Gijsbers, G., Broek, T. van den, Esmeijer, J. & Sanders, J. (2017). "
                         "Smart Skills voor Smart Industry. TNO report TNO 2017 R10618. "
                         "Delft: TNO.",
            "aim": "The study provides knowledge about the effects of digitisation in "
                   "industry.",
            "method": "Desk research, nine case studies and a cross-case analysis.",
        },
        "research_questions": [
            {"title": "Which jobs and tasks disappear, change or arise?",
             "explanation": "In the companies studied."},
            {"title": "What does that mean for skills?", "explanation": ""},
        ],
        "participation": {
            "total": 5,
            "groups": [{"key": k, "label": label, "count": n}
                       for (k, label), n in zip(GROUPS, (2, 1, 1, 1, 0))],
            "organisations": sorted(p["organisation"] for p in participants),
            "participants": participants,
        },
        "sections": {"drivers": drivers, "barriers": barriers,
                     "success_factors": success_factors, "recommendations": recommendations},
        "priorities": priorities,
        "texts": {
            "vision": "In 2030 every worker in Twente learns on the job, every year.",
            "summary": "Twente's manufacturers, schools, government and unions agreed four "
                       "actions.\n\nThe first one, a shared learning hub, has started.",
            "next_steps": "We meet again in June 2027 to review progress.",
        },
        "actions": actions,
        "matrix": {
            "scale": 5, "threshold": 3.0,
            "quadrants": [
                {"key": "quick_win", "label": "Quick wins",
                 "description": "High impact, little effort: start here.", "actions": [1]},
                {"key": "major_project", "label": "Major projects",
                 "description": "High impact, much effort: plan them well.", "actions": [2]},
                {"key": "fill_in", "label": "Fill-ins",
                 "description": "Little impact, little effort: when there is time.",
                 "actions": [3]},
                {"key": "reconsider", "label": "Reconsider",
                 "description": "Little impact, much effort: think again.", "actions": []},
            ],
            "unrated": [4],
        },
        "comments": comments,
        "changes": {
            "since": 2,
            "added": ["Joint internship calendar of schools and companies"],
            "changed": ["Mentor scheme pairing older and younger workers"],
            "removed": ["Skills passport for operators"],
            "progress": ["Open a shared learning hub for operators"],
            "moved": [{"title": "Regional skills fund for SMEs", "from": 5, "to": 4}],
            "new_priorities": ["Explore innovative forms of cooperation with education"],
            "dropped_priorities": [],
        },
        "followup": True,
    }
    agenda.update(overrides)
    return agenda


def render_doc(agenda, **kwargs):
    return Document(io.BytesIO(agenda_docx.render(agenda, **kwargs)))


def all_text(doc):
    """Every paragraph's text in the body (tables included), headers and footers."""
    parts = [Paragraph(p, doc).text for p in doc.element.body.iter(qn("w:p"))]
    for rel in doc.part.rels.values():
        if rel.reltype in (RT.HEADER, RT.FOOTER):
            parts += ["".join(t.text or "" for t in p.iter(qn("w:t")))
                      for p in rel.target_part.element.iter(qn("w:p"))]
    return "\n".join(parts)


def header_text(section):
    return "".join(p.text for p in section.header.paragraphs)


def headings(doc, level):
    return [p.text for p in doc.paragraphs if p.style.name == "Heading %d" % level]


def chapter(doc, title):
    """The text of the paragraphs (not tables) from Heading 1 title to the next Heading 1."""
    lines, inside = [], False
    for p in doc.paragraphs:
        if p.style.name == "Heading 1":
            inside = p.text == title
        elif inside:
            lines.append(p.text)
    return "\n".join(lines)


def table_under(doc, *path):
    """The first table after the headings in path (each found after the one before)."""
    wanted = list(path)
    for block in doc.element.body.iterchildren():
        if block.tag == qn("w:p") and wanted:
            paragraph = Paragraph(block, doc)
            if paragraph.style.name.startswith("Heading") and paragraph.text == wanted[0]:
                wanted.pop(0)
        elif block.tag == qn("w:tbl") and not wanted:
            return Table(block, doc)
    raise AssertionError("no table under %r" % (path,))


def rows_text(table):
    return [[cell.text for cell in row.cells] for row in table.rows]


def runs_in_style(doc, style_name):
    return [r.text for p in doc.element.body.iter(qn("w:p")) for r in Paragraph(p, doc).runs
            if r.style is not None and r.style.name == style_name]


@pytest.fixture(scope="module")
def doc():
    return render_doc(sample_agenda())


# --- the templates ---------------------------------------------------------------------


@pytest.mark.parametrize("language", ["nl", "en"])
def test_shipped_template_is_what_the_generator_makes(language):
    shipped = agenda_docx.AGENDAS / f"agenda-{language}.docx"
    assert shipped.is_file()
    made = zipfile.ZipFile(io.BytesIO(agenda_template.build(language)))
    with zipfile.ZipFile(shipped) as ours:
        assert sorted(ours.namelist()) == sorted(made.namelist())
        for name in made.namelist():
            assert ours.read(name) == made.read(name), (
                f"{shipped.name}:{name} is out of date: run "
                ".venv/bin/python -m toolkit.agenda_template")


@pytest.mark.parametrize("language, tag", [("nl", "nl-NL"), ("en", "en-GB")])
def test_template_defines_the_look_as_styles(language, tag):
    template = Document(str(agenda_docx.AGENDAS / f"agenda-{language}.docx"))
    section = template.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297
    assert section.left_margin == section.right_margin and section.left_margin > Mm(20)
    normal = template.styles["Normal"]
    assert normal.font.name == "Calibri" and normal.font.size == Pt(11)
    kinds = {s.name: s.type for s in template.styles}
    for kind, names in ((WD_STYLE_TYPE.PARAGRAPH, agenda_template.PARAGRAPH_STYLES),
                        (WD_STYLE_TYPE.CHARACTER, agenda_template.CHARACTER_STYLES),
                        (WD_STYLE_TYPE.TABLE, [agenda_template.TABLE_STYLE])):
        for name in names:
            assert kinds.get(name) == kind, name
    # The colours of study wording and the workshop's additions live in their styles.
    study, own = template.styles["Study Quote"], template.styles["Workshop Addition"]
    assert study.font.color.rgb and own.font.color.rgb
    assert study.font.color.rgb != own.font.color.rgb
    lang = template.styles.element.find(qn("w:docDefaults")).find(".//" + qn("w:lang"))
    assert lang.get(qn("w:val")) == tag
    header = header_text(section)
    assert "{title}" in header and "{draft}" in header
    footer = section.footer.paragraphs[0]
    instructions = [i.text.strip() for i in footer._p.iter(qn("w:instrText"))]
    assert instructions == ["PAGE", "NUMPAGES"]
    expected = gettext_for(language)("Page %(page)s of %(pages)s") % {"page": 1, "pages": 1}
    assert footer.text == expected
    assert section.different_first_page_header_footer


def restyled_template(tmp_path, name="agenda-en.docx"):
    """A copy of the English template restyled as an organisation would, with a logo."""
    path = tmp_path / name
    shutil.copy(agenda_docx.AGENDAS / "agenda-en.docx", path)
    template = Document(str(path))
    heading = template.styles["Heading 1"]
    heading.font.name = "Georgia"
    heading.font.color.rgb = RGBColor(0x8B, 0x00, 0x00)
    template.styles["Normal"].font.name = "Verdana"
    logo = figures.support_chart([("Logo", [1])], ["Logo"], "", width_cm=3)
    run = template.sections[0].header.paragraphs[0].add_run()
    run.add_picture(io.BytesIO(logo), width=Mm(25))
    # A bigger logo and the title on the title page, in its own first-page header.
    title_page = template.sections[0].first_page_header.paragraphs[0]
    title_page.add_run().add_picture(io.BytesIO(logo), width=Mm(40))
    title_page.add_run(" {title}")
    template.save(str(path))
    return path, logo


def test_a_restyled_template_restyles_the_document(tmp_path):
    path, logo = restyled_template(tmp_path)
    doc = render_doc(sample_agenda(), template=str(path))
    assert doc.styles["Heading 1"].font.name == "Georgia"
    assert doc.styles["Heading 1"].font.color.rgb == RGBColor(0x8B, 0x00, 0x00)
    assert doc.styles["Normal"].font.name == "Verdana"
    assert "Introduction and method" in headings(doc, 1)
    header = doc.sections[0].header
    images = [rel.target_part.blob for rel in header.part.rels.values()
              if rel.reltype == RT.IMAGE]
    assert images == [logo]
    assert header.part.element.xpath(".//a:blip")
    for section in doc.sections:
        assert header_text(section).startswith("Smart skills agenda Twente — draft v3")
    title_page = doc.sections[0].first_page_header
    assert [rel.target_part.blob for rel in title_page.part.rels.values()
            if rel.reltype == RT.IMAGE] == [logo]
    assert "".join(p.text for p in title_page.paragraphs) == " Smart skills agenda Twente"
    assert "{title}" not in all_text(doc) and "{draft}" not in all_text(doc)
    # The charts' picture ids differ from each other and from the logos' ids.
    charts = [d.get("id") for d in doc.part.element.iter(qn("wp:docPr"))]
    logos = {d.get("id") for part in (header.part, title_page.part)
             for d in part.element.iter(qn("wp:docPr"))}
    assert len(set(charts)) == len(charts) == 2 and not logos & set(charts)


def test_templates_folder_from_the_environment(tmp_path, monkeypatch):
    restyled_template(tmp_path)
    monkeypatch.setenv("TOOLKIT_AGENDAS", str(tmp_path))
    assert render_doc(sample_agenda()).styles["Normal"].font.name == "Verdana"
    # A folder without the workshop's language falls back to the default template.
    assert render_doc(sample_agenda(language="nl")).styles["Normal"].font.name == "Calibri"
    monkeypatch.setenv("TOOLKIT_AGENDAS", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError):
        agenda_docx.render(sample_agenda())


def test_body_uses_style_names_only(doc):
    body = doc.element.body
    direct = body.xpath(".//w:r/w:rPr/*[not(self::w:rStyle)] | .//w:tcPr/w:shd"
                        " | .//w:pPr/w:jc | .//w:pPr/w:spacing | .//w:pPr/w:ind")
    assert direct == []
    known = {s.get(qn("w:styleId")) for s in doc.styles.element.iter(qn("w:style"))}
    used = {e.get(qn("w:val")) for e in body.xpath(".//w:pStyle | .//w:rStyle | .//w:tblStyle")}
    assert used and used <= known
    for name in ("Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3", "TOC Heading",
                 "toc 1", "toc 2", "Caption", "List Bullet", "List Number", "Table Heading",
                 "Table Text", "Table Group", "Figure", "Small Print", "Bibliography"):
        assert doc.styles[name].style_id in used, name
    for name in ("Study Quote", "Study Label", "Derived Label", "Workshop Addition",
                 "Workshop Label", "Strong", "Note"):
        assert doc.styles[name].style_id in used, name
    assert doc.styles["Agenda Table"].style_id in used


def test_placeholder_split_over_runs_keeps_its_formatting(tmp_path):
    path = tmp_path / "split.docx"
    template = Document(str(agenda_docx.AGENDAS / "agenda-en.docx"))
    paragraph = template.sections[0].header.paragraphs[0]
    for run in list(paragraph.runs):
        run._r.getparent().remove(run._r)
    paragraph.add_run("Agenda: {ti").bold = True
    paragraph.add_run("tle} (")
    paragraph.add_run("{draft}").italic = True
    paragraph.add_run(")")
    template.save(str(path))
    agenda = sample_agenda()
    agenda["workshop"]["title"] = "Plan {draft} <b>&amp;</b>"
    doc = render_doc(agenda, template=str(path))
    runs = doc.sections[0].header.paragraphs[0].runs
    assert "".join(r.text for r in runs) == "Agenda: Plan {draft} <b>&amp;</b> (draft v3)"
    assert runs[0].bold and runs[0].text == "Agenda: Plan {draft} <b>&amp;</b>"
    assert runs[2].italic and runs[2].text == "draft v3"


def test_user_text_that_looks_like_a_placeholder_stays_as_typed():
    agenda = sample_agenda()
    agenda["workshop"]["title"] = "{draft} for {title}"
    agenda["actions"][0]["what"] = "Write {title} and {draft} on the poster"
    doc = render_doc(agenda)
    assert header_text(doc.sections[0]) == "{draft} for {title} — draft v3"
    rows = rows_text(table_under(doc, "Action plan", "Actions"))
    assert any(r[1].startswith("Write {title} and {draft} on the poster") for r in rows)


# --- the document's frame --------------------------------------------------------------


def test_page_is_a4_with_margins(doc):
    section = doc.sections[0]
    # Word stores twips, so the size is A4 to within a twip.
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297
    assert section.left_margin > Mm(15) and section.right_margin > Mm(15)


def test_action_plan_has_a_landscape_a4_page(doc):
    portrait, landscape, back = doc.sections
    assert round(landscape.page_width.mm) == 297 and round(landscape.page_height.mm) == 210
    assert round(back.page_width.mm) == 210
    assert portrait.different_first_page_header_footer
    assert not landscape.different_first_page_header_footer


def test_headers_and_footers(doc):
    first = doc.sections[0]
    # The title page has its own (empty) header and footer.
    assert "".join(p.text for p in first.first_page_header.paragraphs) == ""
    assert "".join(p.text for p in first.first_page_footer.paragraphs) == ""
    for section in doc.sections:
        assert header_text(section) == "Smart skills agenda Twente — draft v3"
        footer = section.footer.paragraphs[0]
        assert footer.text == "Page 1 of 1"  # the fields' cached values until Word counts
        assert [i.text.strip() for i in footer._p.iter(qn("w:instrText"))] == [
            "PAGE", "NUMPAGES"]


def test_headings_in_order(doc):
    assert headings(doc, 1) == CHAPTERS
    level2 = headings(doc, 2)
    assert level2[:5] == ["The study", "Research questions", "The workshop",
                          "How the workshop worked", "Reading guide"]
    for title in ("Barriers", "Success factors", "Our vision", "Actions", "Follow-up",
                  "Impact and effort per action"):
        assert title in level2


def test_title_page(doc):
    paragraphs = doc.paragraphs
    end = next(i for i, p in enumerate(paragraphs) if p.style.name == "TOC Heading")
    title_page = "\n".join(p.text for p in paragraphs[:end])
    assert [p.text for p in paragraphs[:end] if p.style.name == "Title"] == [
        "Smart skills agenda Twente"]
    assert [p.text for p in paragraphs[:end] if p.style.name == "Subtitle"] == [
        "Draft action agenda"]
    for text in ("Twente · Manufacturing", "26 November 2026 · draft v3",
                 "Based on: Smart Skills for Smart Industry. How work changes "
                 "in the factory of the future (TNO, 2017)", "Facilitator: Fatima El Amrani"):
        assert text in title_page
    # The contents start on a new page, and so does the first chapter.
    assert paragraphs[end].paragraph_format.page_break_before
    first = next(p for p in paragraphs if p.style.name == "Heading 1")
    assert first.text == "Summary" and first.paragraph_format.page_break_before


def test_contents_is_a_toc_field_with_the_headings(doc):
    xml = doc.element.body.xml
    assert 'TOC \\o "1-2" \\h \\z \\u' in xml
    entries = [p.text for p in doc.paragraphs if p.style.name in ("toc 1", "toc 2")]
    assert [p.text for p in doc.paragraphs if p.style.name == "toc 1"] == CHAPTERS
    assert entries.index("The study") == entries.index("Introduction and method") + 1
    assert "Right-click to update the table of contents." in all_text(doc)
    kinds = [c.get(qn("w:fldCharType")) for c in doc.element.body.iter(qn("w:fldChar"))]
    assert kinds == ["begin", "separate", "end"] * 3  # the contents and two figure numbers


def test_core_properties(doc):
    props = doc.core_properties
    assert props.title == "Smart skills agenda Twente"
    assert "Twente" in props.subject
    assert props.language == "en-GB"
    assert props.revision == 3


def test_core_properties_with_docx2python():
    with docx2python(io.BytesIO(agenda_docx.render(sample_agenda(language="nl")))) as read:
        assert read.core_properties["title"] == "Smart skills agenda Twente"
        assert read.core_properties["language"] == "nl-NL"
        assert "Open a shared learning hub for operators" in read.text


# --- the chapters ----------------------------------------------------------------------


def test_summary_is_the_groups_text_marked_as_theirs(doc):
    summary = chapter(doc, "Summary")
    assert summary.startswith("Added by the workshop\n")
    assert "agreed four actions.\nThe first one, a shared learning hub, has started." in summary
    own = runs_in_style(doc, "Workshop Addition")
    assert "The first one, a shared learning hub, has started." in own
    assert "In 2030 every worker in Twente learns on the job, every year." in own
    assert "We meet again in June 2027 to review progress." in own


def test_empty_texts_leave_out_summary_and_vision():
    agenda = sample_agenda(texts={"vision": "", "summary": " ", "next_steps": ""})
    doc = render_doc(agenda)
    assert "Summary" not in headings(doc, 1)
    assert "Our vision" not in headings(doc, 2)
    assert headings(doc, 1)[0] == "Changes since draft v2"


def test_changes_since_the_previous_draft(doc):
    text = chapter(doc, "Changes since draft v2")
    for expected in ("New actions\nJoint internship calendar of schools and companies",
                     "Changed actions\nMentor scheme pairing older and younger workers",
                     "Removed actions\nSkills passport for operators",
                     "Progress reported\nOpen a shared learning hub for operators",
                     "New priority: Explore innovative forms of cooperation with education",
                     "Regional skills fund for SMEs: from place 5 to 4"):
        assert expected in text
    assert "No longer a priority" not in text
    bullets = [p.text for p in doc.paragraphs if p.style.name == "List Bullet"]
    assert "Skills passport for operators" in bullets


def test_first_draft_has_no_changes_and_an_unchanged_one_says_so():
    assert "Changes since draft v2" not in headings(render_doc(sample_agenda(changes=None)), 1)
    quiet = {"since": 2, "added": [], "changed": [], "removed": [], "progress": [],
             "moved": [], "new_priorities": [], "dropped_priorities": []}
    doc = render_doc(sample_agenda(changes=quiet))
    assert chapter(doc, "Changes since draft v2") == "Nothing changed since draft v2."


def test_introduction_has_study_questions_workshop_and_method(doc):
    text = chapter(doc, "Introduction and method")
    for expected in ("builds on the study “Smart Skills for Smart Industry",
                     "Which jobs and tasks disappear, change or arise?",
                     "On 26 November 2026, 5 participants from Twente met",
                     "each participant had 5 dots",
                     "rated the expected impact of each action and the effort it takes, "
                     "from 1 (low) to 5 (high)"):
        assert expected in text


def test_participation_by_group_and_organisation(doc):
    rows = rows_text(table_under(doc, "Who took part"))
    assert rows == [
        ["Stakeholder group", "Participants", "Organisations"],
        ["Companies", "2", "Norma Hengelo, Schuitemaker"],
        ["Education and training", "1", "ROC van Twente"],
        ["Government", "1", "Provincie Overijssel"], ["Workers", "1", "FNV Metaal"],
        ["Other", "0", ""], ["Total", "5", "5"]]


def test_named_workshop_lists_participants(doc):
    table = table_under(doc, "Participants")
    assert rows_text(table)[1] == ["Anna de Vries", "Norma Hengelo", "Companies"]


def test_anonymous_workshop_shows_no_names():
    agenda = sample_agenda()
    agenda["workshop"]["anonymous"] = True
    text = all_text(render_doc(agenda))
    for person in agenda["participation"]["participants"]:
        assert person["name"] not in text
    assert "Norma Hengelo" in text  # organisations are still listed
    assert "Participants took part anonymously" in text


def test_votes_in_priorities_equal_input(doc):
    agenda = sample_agenda()
    rows = rows_text(table_under(doc, "Priorities"))
    assert rows[0] == ["Priority"] + [label for _, label in GROUPS] + ["Total dots", "Voters"]
    assert len(rows) - 1 == len(agenda["priorities"])
    for row, entry in zip(rows[1:], agenda["priorities"]):
        assert row[0].split("\n")[0] == entry["title"]
        assert row[1:6] == [str(g["dots"]) for g in entry["by_group"]]
        assert row[6:] == [str(entry["dots"]), str(entry["voters"])]


def test_action_table_repeats_its_header_and_shows_every_field(doc):
    table = table_under(doc, "Action plan", "Actions")
    header = table.rows[0]
    assert [c.text for c in header.cells] == [
        "No.", "Action", "Lead", "Partners", "Timing", "Resources and funding", "Indicator",
        "Status"]
    repeat = header._tr.trPr.find(qn("w:tblHeader"))
    assert repeat is not None and repeat.get(qn("w:val")) in (None, "true", "1")
    rows = rows_text(table)[1:]
    group_rows = [r[0] for r in rows if len(set(r)) == 1]
    assert group_rows == [
        "Invest in lifelong learning · From the study",
        "Regional skills fund for SMEs · Added by the workshop",
        "Explore innovative forms of cooperation with education · From the study"]
    actions = {r[0]: r for r in rows if len(set(r)) > 1}
    assert actions["1"] == [
        "1",
        "Open a shared learning hub for operators\nAnswers: Ageing workforce in Twente\n"
        "First step: Visit the hub in Hengelo with three companies",
        "ROC van Twente", "Norma Hengelo, Schuitemaker\nVolunteered: Saxion",
        "2027 Q2 – 2028 Q4\nPilot with two companies first", "€ 40,000 from the province",
        "60 operators trained",
        "started\nTwo companies signed up; the room is being fitted out.\n"
        "updated 12 May 2027"]
    assert actions["3"][2:4] == ["Volunteered: Provincie Overijssel",
                                 "Volunteered: Rabobank Twente"]
    assert actions["4"][3] == "to be decided" and actions["4"][5] == "to be decided"
    # Actions sit under their recommendation.
    flat = [r[0] for r in rows]
    assert flat.index("2") < flat.index("Regional skills fund for SMEs · Added by the workshop")


def test_no_status_column_before_follow_up():
    doc = render_doc(sample_agenda(followup=False))
    table = table_under(doc, "Action plan", "Actions")
    assert [c.text for c in table.rows[0].cells][-1] == "Indicator"
    assert "No action has started yet." in chapter(doc, "Next steps")


def test_matrix_as_figure_and_table(doc):
    text = chapter(doc, "Impact and effort")
    assert "Not rated yet: 4" in text
    rows = rows_text(table_under(doc, "Impact and effort"))
    assert rows[0] == ["Quadrant", "Actions"]
    assert rows[1] == ["Quick wins\nHigh impact, little effort: start here.",
                       "1. Open a shared learning hub for operators"]
    assert rows[2][1] == "2. Mentor scheme pairing older and younger workers"
    assert rows[3][1] == "3. Draft the rules of the skills fund"
    assert rows[4][1] == "—"
    assert rows[5] == ["Not rated yet", "4. Joint internship calendar of schools and companies"]


def test_figures_have_numbered_captions_and_alt_text(doc):
    captions = [p for p in doc.paragraphs if p.style.name == "Caption"]
    assert [p.text for p in captions] == [
        "Figure 1: Dots per stakeholder group for each priority",
        "Figure 2: Impact and effort of the actions"]
    for number, caption in enumerate(captions, 1):
        instr = [i.text.strip() for i in caption._p.iter(qn("w:instrText"))]
        assert instr == ["SEQ Figure \\* ARABIC"]
    pictures = doc.element.body.xpath(".//wp:docPr")
    assert [p.get("title") for p in pictures] == [
        "Dots per stakeholder group for each priority", "Impact and effort of the actions"]
    assert all(len(p.get("descr")) > 40 for p in pictures)
    # The figures follow their pictures and the pictures are PNGs the document keeps.
    blobs = [rel.target_part.blob for rel in doc.part.rels.values() if rel.reltype == RT.IMAGE]
    assert len(blobs) == 2 and all(b.startswith(b"\x89PNG\r\n\x1a\n") for b in blobs)
    for picture in doc.element.body.xpath(".//w:drawing"):
        paragraph = picture.getparent().getparent()
        assert Paragraph(paragraph, doc).style.name == "Figure"
        assert Paragraph(paragraph.getnext(), doc).style.name == "Caption"


def test_no_charts_without_votes_or_ratings():
    agenda = sample_agenda()
    for entry in agenda["priorities"]:
        entry["dots"] = 0
    for entry in agenda["actions"]:
        entry.update(impact=None, effort=None)
    doc = render_doc(agenda)
    assert doc.element.body.xpath(".//w:drawing") == []
    assert "No action has been rated for impact and effort yet." in all_text(doc)


def test_next_steps_start_with_the_groups_text_and_show_follow_up(doc):
    text = chapter(doc, "Next steps")
    assert text.startswith("Added by the workshop\nWe meet again in June 2027")
    assert "This document is draft v3 of the action agenda" in text
    rows = rows_text(table_under(doc, "Next steps", "Follow-up"))
    assert rows == [["Status", "Actions"], ["started", "1"], ["planned", "3"]]


def test_annex_lists_every_item_with_its_votes(doc):
    agenda = sample_agenda()
    for heading, key in (("Drivers", "drivers"), ("Barriers", "barriers"),
                         ("Success factors", "success_factors"),
                         ("Recommendations", "recommendations")):
        rows = rows_text(table_under(doc, "Annex: all results", heading))[1:]
        items = agenda["sections"][key]
        assert [r[0].split("\n")[0] for r in rows] == [i["title"] for i in items]
        for row, entry in zip(rows, items):
            assert row[1:6] == [str(g["dots"]) for g in entry["by_group"]]
            assert row[6] == str(entry["dots"])
            assert row[7] == ("yes" if entry["adopted"] else "no")
    markers = [r[0].split("\n")[1] for r in
               rows_text(table_under(doc, "Annex: all results", "Drivers"))[1:]]
    assert markers == ["From the study", "From the study", "Added by the workshop",
                       "From the study"]
    ratings = rows_text(table_under(doc, "Annex: all results", "Impact and effort per action"))
    assert ratings[0] == ["No.", "Action", "Impact", "Effort", "Ratings", "Quadrant"]
    assert ratings[1] == ["1", "Open a shared learning hub for operators", "4.2", "2.4", "5",
                          "Quick wins"]
    assert ratings[4] == ["4", "Joint internship calendar of schools and companies", "—", "—",
                          "0", "—"]


def test_annex_lists_every_comment(doc):
    text = chapter(doc, "Annex: comments")
    for thread in sample_agenda()["comments"]:
        assert thread["item"] in text
        for comment in thread["comments"]:
            assert comment["body"] in text
            assert comment["at"] in text
    assert "— Anna de Vries, Norma Hengelo, 2026-11-26 10:12" in text
    assert "— 2026-11-26 10:15" in text
    assert "Competition comes from Germany as much as from Asia." in runs_in_style(
        doc, "Workshop Addition")


def test_anonymous_comments_name_nobody():
    agenda = sample_agenda()
    agenda["workshop"]["anonymous"] = True
    text = chapter(render_doc(agenda), "Annex: comments")
    assert "Anna de Vries" not in text and "Competition comes from Germany" in text


def test_study_and_workshop_wording_are_told_apart(doc):
    text = all_text(doc)
    assert "From the study: “staying competitive, meeting higher quality requirements" in text
    assert "(TNO 2017 R10618, summary)" in text
    assert ("Derived from the study's finding: Large companies have formal education "
            "departments") in text
    # The legend in the introduction explains all three markers.
    guide = next(p for p in doc.paragraphs if p.text.startswith("From the study: the study"))
    for marker in ("Derived from the study's finding", "Added by the workshop"):
        assert marker in guide.text
    # Quotations and markers carry the styles that colour them, not colours of their own.
    quotes = runs_in_style(doc, "Study Quote")
    assert "“staying competitive, meeting higher quality requirements and responding quickly " \
           "to new customer demands”" in quotes
    assert "From the study" in runs_in_style(doc, "Study Label")
    assert "Added by the workshop" in runs_in_style(doc, "Workshop Label")
    # The room's own items have their titles in the workshop's style.
    assert "Ageing workforce in Twente" in runs_in_style(doc, "Workshop Addition")
    assert "Staying competitive" not in runs_in_style(doc, "Workshop Addition")


def test_source_reference(doc):
    text = chapter(doc, "Source reference")
    assert text.startswith("Gijsbers, G., Broek, T. van den")
    assert next(p for p in doc.paragraphs if p.text.startswith("Gijsbers")).style.name == \
        "Bibliography"


# --- odd and old data ------------------------------------------------------------------


def test_agenda_without_the_new_keys_renders():
    """Older drafts' data: no texts, matrix, comments, changes, follow-up or action numbers."""
    agenda = sample_agenda()
    for key in ("texts", "matrix", "comments", "changes", "followup"):
        del agenda[key]
    del agenda["workshop"]["closed"]
    agenda["actions"] = [
        {"recommendation": a["recommendation"], "what": a["what"], "lead": a["lead"],
         "partners": a["partners"], "timeline": a["timing"], "resources": a["resources"],
         "indicator": a["indicator"]} for a in agenda["actions"]]
    doc = render_doc(agenda)
    assert headings(doc, 1) == ["Introduction and method", "Who took part",
                                "What drives the region", "Barriers and success factors",
                                "Priorities", "Action plan", "Next steps",
                                "Annex: all results", "Source reference"]
    rows = rows_text(table_under(doc, "Action plan"))
    assert ["1", "Open a shared learning hub for operators", "ROC van Twente",
            "Norma Hengelo, Schuitemaker", "2027 Q2 – 2028 Q4", "€ 40,000 from the province",
            "60 operators trained"] in rows


def test_missing_optional_values_render():
    agenda = sample_agenda()
    agenda["workshop"].update(sector="", facilitator="", date=None)
    agenda["study"]["authors"] = []
    agenda["sections"]["barriers"][0]["derived_from"] = None
    agenda["participation"]["participants"][0]["name"] = None
    doc = render_doc(agenda)
    text = all_text(doc)
    assert "on the  sector" not in text
    assert "Derived from the study —" in text
    assert "—" in rows_text(table_under(doc, "Participants"))[1][0]


def test_empty_agenda_renders_gracefully():
    agenda = sample_agenda(
        actions=[], priorities=[], research_questions=[], comments=[], changes=None,
        followup=False,
        sections={"drivers": [], "barriers": [], "success_factors": [],
                  "recommendations": []})
    agenda["matrix"]["unrated"] = []
    for quadrant in agenda["matrix"]["quadrants"]:
        quadrant["actions"] = []
    agenda["participation"].update(total=0, organisations=[], participants=[])
    text = all_text(render_doc(agenda))
    assert "No actions have been proposed yet." in text
    assert "The workshop has not adopted any priorities yet." in text
    assert "Nothing was put forward in this step." in text
    assert "Nobody commented on the items." in text


def test_adopted_recommendation_without_actions_is_named():
    agenda = sample_agenda()
    agenda["actions"] = agenda["actions"][:1]
    text = all_text(render_doc(agenda))
    assert "These adopted recommendations have no actions yet:" in text
    assert "Regional skills fund for SMEs" in text


def test_dutch_document():
    doc = render_doc(sample_agenda(language="nl"))
    assert doc.core_properties.language == "nl-NL"
    assert "26 november 2026" in all_text(doc)
    lang = doc.styles.element.find(qn("w:docDefaults")).find(".//" + qn("w:lang"))
    assert lang.get(qn("w:val")) == "nl-NL"
    draft = gettext_for("nl")("draft v%(version)s") % {"version": 3}
    assert header_text(doc.sections[1]) == "Smart skills agenda Twente — " + draft


def test_closed_workshop_says_so_on_the_title_page():
    agenda = sample_agenda()
    agenda["workshop"]["closed"] = True
    assert "The workshop has closed" in all_text(render_doc(agenda))


def test_forbidden_characters_are_stripped_and_unicode_kept():
    nasty = "Agenda\x00\x01\x0b\x0c\x1f\ud800\udfff\ufffe\uffff <&> 🚀 שלום ﷺ é\u200f"
    agenda = sample_agenda()
    agenda["workshop"]["title"] = nasty
    agenda["actions"][0]["what"] = nasty
    agenda["participation"]["participants"][0]["name"] = nasty
    agenda["priorities"][0]["title"] = nasty  # also a label in the support chart
    doc = render_doc(agenda)
    clean = "Agenda <&> 🚀 שלום ﷺ é\u200f"
    text = all_text(doc)
    assert text.count(clean) >= 5  # title page, header, action, participant, priority
    assert doc.core_properties.title == clean
    assert "\x00" not in text and "\ufffe" not in text


def expected_text(text):
    return FORBIDDEN.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


# st.text() never yields lone surrogates, so mix in text built from characters that
# include them, plus the other characters XML forbids and the template's placeholders.
nasty_characters = st.one_of(
    st.characters(), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.characters(max_codepoint=0x1F), st.sampled_from("\ufffe\uffff<&>\r\n\t$"))
any_text = st.one_of(
    st.text(max_size=300), st.lists(nasty_characters, max_size=300).map("".join),
    st.sampled_from(["{title}", "{draft}", "<w:t>x</w:t>", "]]>", "%(title)s", "$x$"]),
    st.text(min_size=1, max_size=3).map(lambda s: s * 2000))
FIELDS = ("title", "what", "why", "lead", "partners", "volunteer", "summary", "vision",
          "next_steps", "comment", "progress", "first_step", "timing", "priority")


@settings(max_examples=10, deadline=None)
@given(values=st.fixed_dictionaries({field: any_text for field in FIELDS}))
def test_any_text_renders(values):
    agenda = sample_agenda()
    agenda["sections"] = {"drivers": agenda["sections"]["drivers"][2:3], "barriers": [],
                          "success_factors": [], "recommendations": []}
    agenda["priorities"] = agenda["priorities"][:1]
    agenda["workshop"]["title"] = values["title"]
    agenda["priorities"][0]["title"] = values["priority"]
    first = agenda["actions"][0]
    first.update(what=values["what"], why=values["why"], lead=values["lead"],
                 partners=values["partners"], progress=values["progress"],
                 first_step=values["first_step"], timing=values["timing"])
    first["volunteers"] = [{"organisation": values["volunteer"], "role": "partner",
                            "role_label": "partner"}]
    agenda["texts"] = {"summary": values["summary"], "vision": values["vision"],
                       "next_steps": values["next_steps"]}
    agenda["comments"][0]["comments"][0]["body"] = values["comment"]
    agenda["changes"]["added"] = [values["what"]]
    doc = render_doc(agenda)
    text = all_text(doc)
    for field, value in values.items():
        expected = expected_text(value)
        if not expected.strip():
            continue  # blank is as good as empty: "to be decided", or left out
        if field in ("summary", "vision", "next_steps"):
            expected = expected.strip()  # the group's texts are split into paragraphs
            for block in re.split(r"\n\s*\n", expected):
                assert block in text, field
        else:
            assert expected in text, field
    title = " ".join(expected_text(values["title"]).split())
    assert header_text(doc.sections[0]) == title + " — draft v3"
    assert doc.core_properties.title == expected_text(values["title"])[:255]


def test_very_long_title_fits_core_properties():
    agenda = sample_agenda()
    agenda["workshop"]["title"] = "Lange titel " * 50
    doc = render_doc(agenda)
    assert len(doc.core_properties.title) == 255
    assert "Lange titel " * 50 in all_text(doc)


# --- opened by an office suite ---------------------------------------------------------


def office_tools():
    """soffice, pdftotext and pdfinfo; skipped when missing, except in CI where it fails."""
    tools = [shutil.which(name) for name in ("soffice", "pdftotext", "pdfinfo")]
    if not all(tools):
        if os.environ.get("CI"):
            pytest.fail("soffice, pdftotext and pdfinfo are required on CI")
        pytest.skip("LibreOffice (soffice) or poppler-utils (pdftotext) not installed")
    return tools


@pytest.mark.office
def test_libreoffice_converts_to_pdf(tmp_path):
    soffice, pdftotext, pdfinfo = office_tools()
    agenda = sample_agenda()
    source = tmp_path / "agenda.docx"
    source.write_bytes(agenda_docx.render(agenda))
    profile = tmp_path / ("lo-" + uuid.uuid4().hex)
    subprocess.run(
        [soffice, "-env:UserInstallation=" + profile.as_uri(), "--headless",
         "--infilter=MS Word 2007 XML", "--convert-to", "pdf", "--outdir", str(tmp_path),
         str(source)],
        check=True, capture_output=True, timeout=120)
    pdf = tmp_path / "agenda.pdf"
    assert pdf.exists(), "LibreOffice did not produce a PDF"
    info = subprocess.run([pdfinfo, str(pdf)], check=True, capture_output=True,
                          text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert 10 <= pages <= 30, pages
    text = subprocess.run([pdftotext, str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    # A cell's text wraps over lines; pdftotext keeps those lines together.
    text = " ".join(text.split())
    assert "Smart skills agenda Twente — draft v3" in text  # the header
    assert f"Page 2 of {pages}" in text  # the footer, counted by LibreOffice
    for title in CHAPTERS:
        assert title in text, title
    for entry in agenda["actions"]:
        assert entry["what"] in text, entry["what"]
    assert "Figure 1: Dots per stakeholder group for each priority" in text
