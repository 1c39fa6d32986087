"""The Word document: rendered from plain agenda data and read back."""
import io
import os
import re
import shutil
import subprocess
import uuid

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm
from docx.table import Table
from docx.text.paragraph import Paragraph
from docx2python import docx2python
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit import agenda_docx

GROUPS = [("companies", "Companies"), ("education", "Education and training"),
          ("government", "Government"), ("workers", "Workers"), ("other", "Other")]

FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def by_group(*dots):
    return [{"key": key, "label": label, "dots": n} for (key, label), n in zip(GROUPS, dots)]


def item(title, kind_label, origin, dots, voters, groups, adopted=False, **extra):
    base = {"title": title, "explanation": "", "kind_label": kind_label, "origin": origin,
            "source": None, "reference": None, "derived_from": None, "dots": dots,
            "voters": voters, "by_group": by_group(*groups), "adopted": adopted}
    base.update(extra)
    return base


def sample_agenda(**overrides):
    """A realistic English agenda; keyword arguments replace top-level keys."""
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
    priorities = [i for section in (drivers, barriers, success_factors, recommendations)
                  for i in section if i["adopted"]]
    participants = [
        {"name": "Anna de Vries", "organisation": "Norma Hengelo", "group_label": "Companies"},
        {"name": "Bram Jansen", "organisation": "ROC van Twente",
         "group_label": "Education and training"},
        {"name": "Chantal Smit", "organisation": "Provincie Overijssel",
         "group_label": "Government"},
        {"name": "Dirk Bos", "organisation": "FNV Metaal", "group_label": "Workers"},
        {"name": "Eva Mulder", "organisation": "Schuitemaker", "group_label": "Companies"},
    ]
    agenda = {
        "language": "en",
        "version": 3,
        "generated_at": "2026-11-26 14:05",
        "workshop": {"title": "Smart skills agenda Twente", "region": "Twente",
                     "sector": "Manufacturing", "date": "2026-11-26",
                     "facilitator": "Fatima El Amrani", "anonymous": False, "dots": 5},
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
        "actions": [
            {"recommendation": "Invest in lifelong learning",
             "what": "Open a shared learning hub for operators", "lead": "ROC van Twente",
             "partners": "Norma Hengelo, Schuitemaker", "timeline": "Q2 2027",
             "resources": "€ 40,000 from the province", "indicator": "60 operators trained"},
            {"recommendation": "Regional skills fund for SMEs",
             "what": "Draft the rules of the skills fund", "lead": "Provincie Overijssel",
             "partners": "", "timeline": "before summer 2027", "resources": "staff time",
             "indicator": "rules adopted by the province"},
            {"recommendation": "Invest in lifelong learning",
             "what": "Mentor scheme pairing older and younger workers", "lead": "FNV Metaal",
             "partners": "Norma Hengelo", "timeline": "2027", "resources": "",
             "indicator": "20 pairs"},
        ],
    }
    agenda.update(overrides)
    return agenda


def render_doc(agenda):
    return Document(io.BytesIO(agenda_docx.render(agenda)))


def all_text(doc):
    """Every paragraph's text in the body (tables included), footers and headers."""
    parts = [Paragraph(p, doc).text for p in doc.element.body.iter(qn("w:p"))]
    for section in doc.sections:
        for part in (section.footer, section.header):
            parts += [p.text for p in part.paragraphs]
    return "\n".join(parts)


def headings(doc, level):
    return [p.text for p in doc.paragraphs if p.style.name == "Heading %d" % level]


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


@pytest.fixture(scope="module")
def doc():
    return render_doc(sample_agenda())


def test_page_is_a4_with_margins(doc):
    section = doc.sections[0]
    # Word stores twips, so the size is A4 to within a twip.
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297
    assert section.left_margin > Mm(15) and section.right_margin > Mm(15)


def test_action_plan_has_a_landscape_a4_page(doc):
    portrait, landscape, back = doc.sections
    assert round(landscape.page_width.mm) == 297 and round(landscape.page_height.mm) == 210
    assert round(back.page_width.mm) == 210
    # Every section has a footer with the draft number; the title page has none.
    assert portrait.different_first_page_header_footer
    assert portrait.first_page_footer.is_linked_to_previous
    for section in doc.sections:
        assert "draft v3" in section.footer.paragraphs[0].text


def test_headings_in_order(doc):
    assert headings(doc, 1) == [
        "Introduction and method", "Who took part", "What drives the region",
        "Barriers and success factors", "Priorities", "Action plan", "Next steps",
        "Annex: all results", "Source reference"]
    level2 = headings(doc, 2)
    assert level2[:4] == ["The study", "Research questions", "The workshop", "Reading guide"]
    assert "Barriers" in level2 and "Success factors" in level2


def test_title_page(doc):
    paragraphs = doc.paragraphs
    end = next(i for i, p in enumerate(paragraphs) if p.style.name == "TOC Heading")
    title_page = "\n".join(p.text for p in paragraphs[:end])
    assert [p.text for p in paragraphs[:end] if p.style.name == "Title"] == [
        "Smart skills agenda Twente"]
    for text in ("Twente", "Manufacturing", "26 November 2026", "Draft action agenda",
                 "draft v3", "Based on: Smart Skills for Smart Industry. How work changes "
                 "in the factory of the future (TNO, 2017)"):
        assert text in title_page
    # The contents start on a new page.
    assert paragraphs[end].paragraph_format.page_break_before


def test_contents_is_a_toc_field(doc):
    xml = doc.element.body.xml
    assert 'TOC \\o "1-3" \\h \\z \\u' in xml
    assert "Right-click to update the table of contents." in all_text(doc)
    kinds = [c.get(qn("w:fldCharType")) for c in doc.element.body.iter(qn("w:fldChar"))]
    assert kinds == ["begin", "separate", "end"]


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


def test_action_table_repeats_header_and_has_one_row_per_action(doc):
    agenda = sample_agenda()
    table = table_under(doc, "Action plan")
    header = table.rows[0]
    assert [c.text for c in header.cells] == [
        "Action", "Lead", "Partners", "Timeline", "Resources", "Indicator"]
    repeat = header._tr.trPr.find(qn("w:tblHeader"))
    assert repeat is not None and repeat.get(qn("w:val")) in (None, "true", "1")
    rows = rows_text(table)[1:]
    action_rows = [r for r in rows if len(set(r)) > 1]
    group_rows = [r[0] for r in rows if len(set(r)) == 1]
    assert group_rows == ["Invest in lifelong learning", "Regional skills fund for SMEs"]
    assert len(action_rows) == len(agenda["actions"])
    keys = ("what", "lead", "partners", "timeline", "resources", "indicator")
    expected = {a["what"]: [a[k] or "to be decided" for k in keys] for a in agenda["actions"]}
    assert {r[0]: r for r in action_rows} == expected
    # Actions sit under their recommendation.
    flat = [r[0] for r in rows]
    assert flat.index("Mentor scheme pairing older and younger workers") < flat.index(
        "Regional skills fund for SMEs")


def test_votes_in_priorities_equal_input(doc):
    agenda = sample_agenda()
    table = table_under(doc, "Priorities")
    rows = rows_text(table)
    assert rows[0] == ["Priority"] + [label for _, label in GROUPS] + ["Total dots", "Voters"]
    assert len(rows) - 1 == len(agenda["priorities"])
    for row, item in zip(rows[1:], agenda["priorities"]):
        assert row[0].split("\n")[0] == item["title"]
        assert row[1:6] == [str(g["dots"]) for g in item["by_group"]]
        assert row[6:] == [str(item["dots"]), str(item["voters"])]


def test_annex_lists_every_item_with_its_votes(doc):
    agenda = sample_agenda()
    for heading, key in (("Drivers", "drivers"), ("Barriers", "barriers"),
                         ("Success factors", "success_factors"),
                         ("Recommendations", "recommendations")):
        rows = rows_text(table_under(doc, "Annex: all results", heading))[1:]
        items = agenda["sections"][key]
        assert [r[0].split("\n")[0] for r in rows] == [i["title"] for i in items]
        for row, i in zip(rows, items):
            assert row[1:6] == [str(g["dots"]) for g in i["by_group"]]
            assert row[6] == str(i["dots"])
            assert row[7] == ("yes" if i["adopted"] else "no")
    # Each item says where its wording comes from.
    markers = [r[0].split("\n")[1] for r in
               rows_text(table_under(doc, "Annex: all results", "Drivers"))[1:]]
    assert markers == ["From the study", "From the study", "Added by the workshop",
                       "From the study"]


def test_study_and_workshop_wording_are_told_apart(doc):
    text = all_text(doc)
    assert "From the study: “staying competitive, meeting higher quality requirements" in text
    assert "(TNO 2017 R10618, summary)" in text
    assert ("Derived from the study's finding: Large companies have formal education "
            "departments") in text
    assert "Added by the workshop" in text
    # The legend in the introduction explains all three markers.
    guide = next(p for p in doc.paragraphs if p.text.startswith("From the study: the study"))
    for marker in ("Derived from the study's finding", "Added by the workshop"):
        assert marker in guide.text
    # The workshop marker is coloured differently from the study's.
    colours = {r.text: r.font.color.rgb for p in doc.paragraphs for r in p.runs
               if r.text in ("Added by the workshop", "From the study")}
    assert colours["Added by the workshop"] != colours["From the study"]
    # Study quotes are in italics.
    quote = next(r for p in doc.paragraphs for r in p.runs
                 if r.text.startswith("“staying competitive"))
    assert quote.italic


def test_named_workshop_lists_participants(doc):
    text = all_text(doc)
    assert "Anna de Vries" in text
    table = table_under(doc, "Participants")
    assert rows_text(table)[1] == ["Anna de Vries", "Norma Hengelo", "Companies"]


def test_anonymous_workshop_shows_no_names():
    agenda = sample_agenda()
    agenda["workshop"]["anonymous"] = True
    doc = render_doc(agenda)
    text = all_text(doc)
    for person in agenda["participation"]["participants"]:
        assert person["name"] not in text
    assert "Norma Hengelo" in text  # organisations are still listed
    assert "Participants took part anonymously" in text


def test_participation_by_group(doc):
    rows = rows_text(table_under(doc, "Who took part"))
    assert rows == [["Stakeholder group", "Participants"], ["Companies", "2"],
                    ["Education and training", "1"], ["Government", "1"], ["Workers", "1"],
                    ["Other", "0"], ["Total", "5"]]


def test_missing_optional_values_render():
    agenda = sample_agenda()
    agenda["workshop"].update(sector="", facilitator="", date=None)
    agenda["study"]["authors"] = []
    agenda["sections"]["barriers"][0]["derived_from"] = None
    agenda["participation"]["participants"][0]["name"] = None
    text = all_text(render_doc(agenda))
    assert "on the  sector" not in text
    assert "Derived from the study\n" in text or "Derived from the study —" in text
    assert "—" in rows_text(table_under(render_doc(agenda), "Participants"))[1][0]


def test_empty_agenda_renders_gracefully():
    agenda = sample_agenda(
        actions=[], priorities=[], research_questions=[],
        sections={"drivers": [], "barriers": [], "success_factors": [],
                  "recommendations": []})
    agenda["participation"].update(total=0, organisations=[], participants=[])
    text = all_text(render_doc(agenda))
    assert "No actions have been proposed yet." in text
    assert "The workshop has not adopted any priorities yet." in text
    assert "Nothing was put forward in this step." in text


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


def test_forbidden_characters_are_stripped_and_unicode_kept():
    nasty = "Agenda\x00\x01\x0b\x0c\x1f\ud800\udfff\ufffe\uffff <&> 🚀 שלום ﷺ é\u200f"
    agenda = sample_agenda()
    agenda["workshop"]["title"] = nasty
    agenda["actions"][0]["what"] = nasty
    agenda["participation"]["participants"][0]["name"] = nasty
    doc = render_doc(agenda)
    clean = "Agenda <&> 🚀 שלום ﷺ é\u200f"
    text = all_text(doc)
    assert text.count(clean) >= 4  # title page, footer, action, participant
    assert doc.core_properties.title == clean
    assert "\x00" not in text and "\ufffe" not in text


def expected_text(text):
    return FORBIDDEN.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


# st.text() never yields lone surrogates, so mix in text built from characters that
# include them, plus the other characters XML forbids.
nasty_characters = st.one_of(
    st.characters(), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.characters(max_codepoint=0x1F), st.sampled_from("\ufffe\uffff<&>\r\n\t"))
any_text = st.one_of(st.text(max_size=300),
                     st.lists(nasty_characters, max_size=300).map("".join))


@settings(max_examples=8, deadline=None)
@given(title=any_text, action=any_text)
def test_any_text_renders(title, action):
    agenda = sample_agenda(priorities=[])  # a smaller document keeps the test fast
    agenda["sections"] = {"drivers": agenda["sections"]["drivers"][2:3], "barriers": [],
                          "success_factors": [], "recommendations": []}
    agenda["workshop"]["title"] = title
    agenda["actions"][0]["what"] = action
    agenda["sections"]["drivers"][0]["title"] = action
    doc = render_doc(agenda)
    text = all_text(doc)
    assert expected_text(title) in text
    assert expected_text(action) in text
    assert doc.core_properties.title == expected_text(title)[:255]


def test_very_long_title_fits_core_properties():
    agenda = sample_agenda()
    agenda["workshop"]["title"] = "Lange titel " * 50
    doc = render_doc(agenda)
    assert len(doc.core_properties.title) == 255
    assert "Lange titel " * 50 in all_text(doc)


@pytest.mark.office
def test_libreoffice_converts_to_pdf(tmp_path):
    soffice, pdftotext = shutil.which("soffice"), shutil.which("pdftotext")
    if not (soffice and pdftotext):
        if os.environ.get("CI"):
            pytest.fail("soffice and pdftotext are required on CI")
        pytest.skip("LibreOffice (soffice) or poppler-utils (pdftotext) not installed")
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
    text = subprocess.run([pdftotext, str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    # A cell's text wraps over lines; pdftotext keeps those lines together.
    text = " ".join(text.split())
    assert "Smart skills agenda Twente" in text
    for action in agenda["actions"]:
        assert action["what"] in text
        assert action["lead"] in text
