"""Render a draft regional action agenda (plain data from toolkit.agenda) to a Word document.

The renderer knows neither the database nor Flask: `render(agenda)` takes the agenda dict
and returns the .docx bytes. Styles are set up in code on python-docx's default document,
so there is no template file to keep in step.
"""
import io
import re
from datetime import datetime

from babel.dates import format_date
from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor

from toolkit.i18n import gettext_for

# Characters XML 1.0 forbids (C0 controls except tab/newline/CR, lone surrogates, U+FFFE/FFFF).
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# Word's language tags for the document and its spelling checker.
_WORD_LANGUAGE = {"nl": "nl-NL", "en": "en-GB"}
_DATE_LOCALE = {"nl": "nl_NL", "en": "en_GB"}

FONT = "Calibri"
TEXT_WIDTH_CM = 16.0  # A4 (21 cm) minus 2.5 cm margins left and right

DARK = RGBColor(0x1F, 0x38, 0x64)
ACCENT = RGBColor(0x2E, 0x5C, 0x8A)
GREY = RGBColor(0x59, 0x59, 0x59)
# The three origins are told apart by a marker text first; the colour only helps the eye.
STUDY_COLOUR = RGBColor(0x40, 0x40, 0x40)
DERIVED_COLOUR = RGBColor(0x1B, 0x6A, 0x6F)
WORKSHOP_COLOUR = RGBColor(0xB0, 0x4A, 0x00)
HEADER_FILL = "DCE6F1"
GROUP_FILL = "F2F2F2"
PROPERTY_LIMIT = 255  # python-docx refuses longer core properties
TOC_STYLE_ID = "TOC1"
TABLE_STYLE_ID = "TableText"
SHORT_TABLE = 12  # tables with up to this many rows are kept on one page


def xml_safe(text) -> str:
    """text as a string Word accepts: forbidden XML characters removed, line ends as \\n."""
    if text is None:
        return ""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    return _FORBIDDEN.sub("", text)


def render(agenda: dict) -> bytes:
    """The draft action agenda as .docx bytes, in agenda["language"]."""
    _ = gettext_for(agenda["language"])
    doc = _new_document(agenda)
    _set_properties(doc, agenda, _)
    _footer(doc.sections[0], agenda, _)
    _title_page(doc, agenda, _)
    _contents(doc, _)
    _introduction(doc, agenda, _)
    _participation(doc, agenda, _)
    _drivers(doc, agenda, _)
    _barriers_and_success_factors(doc, agenda, _)
    _priorities(doc, agenda, _)
    _new_section(doc, agenda, _, landscape=True)  # room for the six columns
    _action_plan(doc, agenda, _)
    _new_section(doc, agenda, _, landscape=False)
    _next_steps(doc, agenda, _)
    _annex(doc, agenda, _)
    _source(doc, agenda, _)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _chapter_titles(_) -> list[str]:
    """The Heading 1 titles in document order (also the cached table of contents)."""
    return [
        _("Introduction and method"),
        _("Who took part"),
        _("What drives the region"),
        _("Barriers and success factors"),
        _("Priorities"),
        _("Action plan"),
        _("Next steps"),
        _("Annex: all results"),
        _("Source reference"),
    ]


# --- the chapters ----------------------------------------------------------------------


def _title_page(doc, agenda, _):
    workshop, study = agenda["workshop"], agenda["study"]
    label = doc.add_paragraph()
    label.paragraph_format.space_before = Cm(5)
    _run(label, _("Draft action agenda"), bold=True, color=ACCENT, size=14)
    _paragraph(doc, workshop["title"], "Title")
    place = doc.add_paragraph()
    _run(place, workshop["region"], size=16, color=DARK)
    if workshop.get("sector"):
        _run(place, " · ", size=16, color=GREY)
        _run(place, workshop["sector"], size=16, color=DARK)
    when = doc.add_paragraph()
    _run(when, _format_date(workshop["date"], agenda["language"]), size=12)
    _run(when, " · ", size=12, color=GREY)
    _run(when, _draft_label(agenda, _), bold=True, size=12)
    based = doc.add_paragraph()
    based.paragraph_format.space_before = Cm(3)
    _run(based, _("Based on: %(study)s (%(publisher)s, %(year)s)") % {
        "study": xml_safe(study["title"]),
        "publisher": xml_safe(study["publisher"]),
        "year": xml_safe(study["year"]),
    }, color=GREY)
    small = doc.add_paragraph()
    if workshop.get("facilitator"):
        _run(small, _("Facilitator: %(name)s") % {"name": xml_safe(workshop["facilitator"])},
             size=9, color=GREY)
        _run(small, "\n")
    _run(small, _("Generated on %(when)s") % {"when": xml_safe(agenda["generated_at"])},
         size=9, color=GREY)


def _contents(doc, _):
    heading = _paragraph(doc, _("Contents"), "TOCHeading")
    heading.paragraph_format.page_break_before = True
    # A real TOC field, so Word fills in page numbers on "Update field". Until then the
    # field shows its cached result: the chapter titles and how to update them.
    entries = _chapter_titles(_)
    first = _paragraph(doc, "", TOC_STYLE_ID)
    _field_char(first, "begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = ' TOC \\o "1-3" \\h \\z \\u '
    first.add_run()._r.append(instr)
    _field_char(first, "separate")
    first.add_run(entries[0])
    for entry in entries[1:]:
        _paragraph(doc, entry, TOC_STYLE_ID)
    hint = doc.add_paragraph()
    hint.paragraph_format.space_before = Pt(12)
    _run(hint, _("Right-click to update the table of contents."), italic=True, color=GREY,
         size=9)
    _field_char(hint, "end")


def _introduction(doc, agenda, _):
    study, workshop = agenda["study"], agenda["workshop"]
    _heading(doc, _("Introduction and method"), 1, page_break=True)
    _heading(doc, _("The study"), 2)
    values = {
        "title": xml_safe(study["title"]),
        "publisher": xml_safe(study["publisher"]),
        "year": xml_safe(study["year"]),
        "report_number": xml_safe(study.get("report_number")),
        "authors": ", ".join(xml_safe(a) for a in study.get("authors") or []),
    }
    if values["authors"]:
        text = _("This action agenda builds on the study “%(title)s” by %(authors)s "
                 "(%(publisher)s, %(year)s; report %(report_number)s).") % values
    else:
        text = _("This action agenda builds on the study “%(title)s” "
                 "(%(publisher)s, %(year)s; report %(report_number)s).") % values
    _paragraph(doc, text)
    if study.get("aim"):
        p = doc.add_paragraph()
        _run(p, _("Aim."), bold=True)
        _run(p, " " + xml_safe(study["aim"]))
    if study.get("method"):
        p = doc.add_paragraph()
        _run(p, _("Method."), bold=True)
        _run(p, " " + xml_safe(study["method"]))

    questions = agenda.get("research_questions") or []
    if questions:
        _heading(doc, _("Research questions"), 2)
        _paragraph(doc, _("The study answers these research questions:"))
        items = []
        for question in questions:
            parts = [(question["title"], {"bold": True})]
            if question.get("explanation"):
                parts.append(("\n" + xml_safe(question["explanation"]), {}))
            items.append(parts)
        _numbered_list(doc, items)

    _heading(doc, _("The workshop"), 2)
    total = agenda["participation"]["total"]
    values = {
        "date": _format_date(workshop["date"], agenda["language"]),
        "total": total,
        "region": xml_safe(workshop["region"]),
        "title": xml_safe(workshop["title"]),
        "sector": xml_safe(workshop.get("sector")),
    }
    if values["sector"]:
        _paragraph(doc, _("On %(date)s, %(total)s participants from %(region)s met for the "
                          "workshop “%(title)s” on the %(sector)s sector.") % values)
    else:
        _paragraph(doc, _("On %(date)s, %(total)s participants from %(region)s met for the "
                          "workshop “%(title)s”.") % values)
    if workshop.get("facilitator"):
        _paragraph(doc, _("The workshop was facilitated by %(name)s.")
                        % {"name": xml_safe(workshop["facilitator"])})
    _paragraph(doc, _(
        "In each voting step, each participant had %(dots)s dots to give to the items "
        "they found most important. The numbers in this document are the dots exactly as they were cast."
    ) % {"dots": workshop["dots"]})
    _paragraph(doc, _("The workshop went through these steps:"))
    _numbered_list(doc, [
        [(_("Drivers"), {"bold": True}),
         (": " + _("which developments drive the region to act?"), {})],
        [(_("Barriers and success factors"), {"bold": True}),
         (": " + _("what holds the region back, and what works?"), {})],
        [(_("Recommendations"), {"bold": True}),
         (": " + _("which of the study's recommendations should the agenda adopt?"), {})],
        [(_("Actions"), {"bold": True}),
         (": " + _("for each adopted recommendation, concrete actions with a lead "
                   "organisation, partners, timeline, resources and an indicator of "
                   "success."), {})],
    ])

    _heading(doc, _("Reading guide"), 2)
    legend = doc.add_paragraph()
    _run(legend, _("From the study"), bold=True, color=STUDY_COLOUR)
    _run(legend, ": " + _("the study's own words, in italics, with the reference;") + " ")
    _run(legend, _("Derived from the study's finding"), bold=True, color=DERIVED_COLOUR)
    _run(legend, ": " + _("the workshop's wording of a finding of the study;") + " ")
    _run(legend, _("Added by the workshop"), bold=True, color=WORKSHOP_COLOUR)
    _run(legend, ": " + _("written by the participants themselves."))


def _participation(doc, agenda, _):
    participation = agenda["participation"]
    _heading(doc, _("Who took part"), 1)
    organisations = participation.get("organisations") or []
    _paragraph(doc, 
        _("Number of participants: %(total)s. Number of organisations: %(count)s.")
        % {"total": participation["total"], "count": len(organisations)})
    rows = [[group["label"], str(group["count"])] for group in participation["groups"]]
    rows.append([(_("Total"), {"bold": True}), (str(participation["total"]), {"bold": True})])
    _table(doc, [_("Stakeholder group"), _("Participants")], rows, [8.0, 3.0],
           numeric={1})

    _heading(doc, _("Organisations"), 2)
    if organisations:
        for organisation in organisations:
            _paragraph(doc, organisation, "ListBullet")
    else:
        _paragraph(doc, _("No organisations were recorded."))

    _heading(doc, _("Participants"), 2)
    participants = participation.get("participants") or []
    if agenda["workshop"].get("anonymous"):
        _paragraph(doc, _("Participants took part anonymously, so their names are not "
                          "listed."))
    elif not participants:
        _paragraph(doc, _("Nobody has joined the workshop yet."))
    else:
        rows = [[person.get("name") or "—", person.get("organisation") or "",
                 person.get("group_label") or ""] for person in participants]
        _table(doc, [_("Name"), _("Organisation"), _("Stakeholder group")], rows,
               [5.5, 6.0, 4.5])


def _drivers(doc, agenda, _):
    _heading(doc, _("What drives the region"), 1)
    _paragraph(doc, _("The participants chose the drivers that matter most for the "
                      "region and gave them their dots."))
    _section_items(doc, agenda["sections"].get("drivers") or [], _)


def _barriers_and_success_factors(doc, agenda, _):
    _heading(doc, _("Barriers and success factors"), 1)
    _paragraph(doc, _("The participants named what holds the region back and what "
                      "works, and gave their dots to the ones that matter most."))
    _heading(doc, _("Barriers"), 2)
    _section_items(doc, agenda["sections"].get("barriers") or [], _)
    _heading(doc, _("Success factors"), 2)
    _section_items(doc, agenda["sections"].get("success_factors") or [], _)


def _priorities(doc, agenda, _):
    _heading(doc, _("Priorities"), 1)
    priorities = agenda.get("priorities") or []
    if not priorities:
        _paragraph(doc, _("The workshop has not adopted any priorities yet."))
        return
    _paragraph(doc, _(
        "The workshop adopted these priorities for the agenda. The table shows the dots "
        "each priority received from each stakeholder group, the total, and how many "
        "participants gave it at least one dot."))
    groups = agenda["participation"]["groups"]
    headers = [_("Priority")] + [g["label"] for g in groups] + [_("Total dots"), _("Voters")]
    rows = []
    for item in priorities:
        label = [(item["title"], {"bold": True})]
        if item.get("kind_label"):
            label.append(("\n" + xml_safe(item["kind_label"]), {"color": GREY, "size": 8}))
        rows.append([label] + _group_dots(item, groups)
                    + [(str(item["dots"]), {"bold": True}), str(item["voters"])])
    _table(doc, headers, rows, _widths(len(groups), 1.5, 1.6),
           numeric=set(range(1, len(headers))), header_size=8)
    for item in priorities:
        _heading(doc, item["title"], 2)
        if item.get("kind_label"):
            p = doc.add_paragraph()
            _run(p, item["kind_label"], color=GREY, size=9)
        _item_body(doc, item, _)


def _action_plan(doc, agenda, _):
    _heading(doc, _("Action plan"), 1)
    actions = agenda.get("actions") or []
    if not actions:
        _paragraph(doc, _("No actions have been proposed yet."))
    else:
        _paragraph(doc, _(
            "For the adopted recommendations the workshop agreed the actions below, "
            "grouped by recommendation: what will be done, who leads, who takes part, "
            "when, with which resources, and how success will be recognised."))
        headers = [_("Action"), _("Lead"), _("Partners"), _("Timeline"), _("Resources"),
                   _("Indicator")]
        widths = [5.8, 4.2, 4.4, 2.6, 3.9, 3.8]  # 24.7 cm: A4 landscape within margins
        table = _table(doc, headers, [], widths)
        for recommendation, group in _grouped_actions(actions):
            row = table.add_row()
            _set_widths(row, widths)
            cell = row.cells[0].merge(row.cells[-1])
            cell.text = ""
            paragraph = cell.paragraphs[0]
            paragraph._p.style = TABLE_STYLE_ID
            _run(paragraph, recommendation or _("Other actions"), bold=True, color=DARK)
            paragraph.paragraph_format.keep_with_next = True
            _shade(cell, GROUP_FILL)
            _cant_split(row)
            for action in group:
                row = table.add_row()
                _set_widths(row, widths)
                _cant_split(row)
                for cell, key in zip(row.cells, ("what", "lead", "partners", "timeline",
                                                 "resources", "indicator")):
                    value = xml_safe(action.get(key))
                    if value.strip():
                        _fill(cell, value)
                    else:
                        _fill(cell, (_("to be decided"), {"italic": True, "color": GREY}))
    adopted = [item["title"] for item in agenda["sections"].get("recommendations") or []
               if item.get("adopted")]
    with_actions = {action.get("recommendation") for action in actions}
    waiting = [title for title in adopted if title not in with_actions]
    if waiting:
        _paragraph(doc, _("These adopted recommendations have no actions yet:"))
        for title in waiting:
            _paragraph(doc, title, "ListBullet")


def _next_steps(doc, agenda, _):
    _heading(doc, _("Next steps"), 1)
    values = {
        "draft": _draft_label(agenda, _),
        "date": _format_date(agenda["workshop"]["date"], agenda["language"]),
        "facilitator": xml_safe(agenda["workshop"].get("facilitator")),
    }
    _paragraph(doc, _("This document is %(draft)s of the action agenda, written down "
                      "during the workshop of %(date)s.") % values)
    if values["facilitator"]:
        _paragraph(doc, _("Organisations named as lead or partner are asked to check "
                          "their actions and send corrections or additions to the "
                          "facilitator, %(facilitator)s.") % values)
    else:
        _paragraph(doc, _("Organisations named as lead or partner are asked to check "
                          "their actions and send corrections or additions to the "
                          "facilitator."))
    _paragraph(doc, _("The facilitator then prepares the next draft; earlier drafts are "
                      "kept. When the partners agree, the agenda can be adopted and its "
                      "progress followed with the indicators in the action plan."))


def _annex(doc, agenda, _):
    _heading(doc, _("Annex: all results"), 1, page_break=True)
    _paragraph(doc, _("This annex lists every item of every step, including the items "
                      "that were not adopted, with the dots per stakeholder group."))
    groups = agenda["participation"]["groups"]
    sections = agenda["sections"]
    for key, title in (("drivers", _("Drivers")), ("barriers", _("Barriers")),
                       ("success_factors", _("Success factors")),
                       ("recommendations", _("Recommendations"))):
        _heading(doc, title, 2)
        items = sections.get(key) or []
        if not items:
            _paragraph(doc, _("Nothing was put forward in this step."))
            continue
        headers = [_("Item")] + [g["label"] for g in groups] + [_("Total dots"), _("Adopted")]
        rows = []
        for item in items:
            rows.append(
                [[item["title"], ("\n", {}), _origin_short(item, _)]]
                + _group_dots(item, groups)
                + [(str(item["dots"]), {"bold": True}),
                   _("yes") if item.get("adopted") else _("no")])
        _table(doc, headers, rows, _widths(len(groups), 1.5, 1.6),
               numeric=set(range(1, len(headers) - 1)), header_size=8)


def _source(doc, agenda, _):
    study = agenda["study"]
    _heading(doc, _("Source reference"), 1)
    p = _paragraph(doc, study.get("reference"))
    p.paragraph_format.left_indent = Cm(1)
    p.paragraph_format.first_line_indent = Cm(-1)
    if study.get("report_number"):
        _paragraph(doc, _("Report number: %(number)s")
                        % {"number": xml_safe(study["report_number"])})
    _paragraph(doc, _("Quotations from the study are marked “From the study” and give "
                      "the part of the report they come from."))


# --- items -----------------------------------------------------------------------------


def _section_items(doc, items, _):
    """The items of one step that received dots or were adopted; the rest is in the annex."""
    if not items:
        _paragraph(doc, _("Nothing was put forward in this step."))
        return
    shown = [item for item in items if item.get("dots") or item.get("adopted")]
    if not shown:
        _paragraph(doc, _("No dots were given in this step. The annex lists all items."))
        return
    for item in shown:
        p = doc.add_paragraph()
        p.paragraph_format.keep_with_next = True
        p.paragraph_format.space_before = Pt(8)
        p.paragraph_format.space_after = Pt(2)
        _run(p, item["title"], bold=True)
        _item_body(doc, item, _)
    hidden = len(items) - len(shown)
    if hidden:
        _paragraph(doc, _("Items without dots in this step: %(count)s. The annex lists "
                          "them with all results.") % {"count": hidden})


def _item_body(doc, item, _):
    """Explanation, where the wording comes from, and the votes of one item."""
    if item.get("explanation"):
        p = _paragraph(doc, item["explanation"])
        p.paragraph_format.space_after = Pt(2)
    origin = doc.add_paragraph()
    origin.paragraph_format.space_after = Pt(2)
    kind = item.get("origin")
    if kind == "study":
        _run(origin, _("From the study"), bold=True, color=STUDY_COLOUR)
        if item.get("source"):
            _run(origin, ": ")
            _run(origin, _("“%(quote)s”") % {"quote": xml_safe(item["source"])},
                 italic=True, color=STUDY_COLOUR)
        if item.get("reference"):
            _run(origin, " (%s)" % xml_safe(item["reference"]), color=STUDY_COLOUR)
    elif kind == "derived":
        if item.get("derived_from"):
            marker = _("Derived from the study's finding: %(finding)s") % {
                "finding": xml_safe(item["derived_from"])}
        else:
            marker = _("Derived from the study")
        _run(origin, marker, bold=True, color=DERIVED_COLOUR)
        if item.get("source"):
            _run(origin, " — " + xml_safe(item["source"]), italic=True, color=DERIVED_COLOUR)
        if item.get("reference"):
            _run(origin, " (%s)" % xml_safe(item["reference"]), color=DERIVED_COLOUR)
    else:
        _run(origin, _("Added by the workshop"), bold=True, color=WORKSHOP_COLOUR)
    votes = doc.add_paragraph()
    _run(votes, _("Dots: %(dots)s · participants who gave dots: %(voters)s")
         % {"dots": item["dots"], "voters": item["voters"]}, size=9, color=GREY)
    if item.get("adopted"):
        _run(votes, " · ", size=9, color=GREY)
        _run(votes, _("adopted as a priority"), size=9, bold=True, color=DARK)


def _origin_short(item, _):
    """The origin marker for a table cell, small and in the origin's colour."""
    kind = item.get("origin")
    if kind == "study":
        return (_("From the study"), {"color": STUDY_COLOUR, "size": 8})
    if kind == "derived":
        return (_("Derived from the study"), {"color": DERIVED_COLOUR, "size": 8})
    return (_("Added by the workshop"), {"color": WORKSHOP_COLOUR, "size": 8, "bold": True})


def _group_dots(item, groups):
    """Dots per stakeholder group in the fixed group order; a missing group gave none."""
    dots = {entry["key"]: entry["dots"] for entry in item.get("by_group") or []}
    return [str(dots.get(group["key"], 0)) for group in groups]


def _grouped_actions(actions):
    """Actions grouped by recommendation, groups in order of first appearance."""
    groups: dict = {}
    for action in actions:
        groups.setdefault(xml_safe(action.get("recommendation")), []).append(action)
    return groups.items()


def _draft_label(agenda, _):
    return _("draft v%(version)s") % {"version": agenda["version"]}


def _format_date(value, language):
    try:
        return format_date(datetime.strptime(str(value), "%Y-%m-%d").date(), "long",
                           locale=_DATE_LOCALE.get(language, language))
    except ValueError:
        return xml_safe(value)


# --- document set-up -------------------------------------------------------------------


def _new_document(agenda):
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin, section.bottom_margin = Cm(2.5), Cm(2.2)
    section.header_distance = section.footer_distance = Cm(1.2)
    section.different_first_page_header_footer = True  # no footer on the title page

    language = _WORD_LANGUAGE.get(agenda["language"], agenda["language"])
    styles = doc.styles.element
    lang = styles.find(qn("w:docDefaults")).find(".//" + qn("w:lang"))
    lang.set(qn("w:val"), language)
    settings = doc.settings.element
    theme_lang = settings.find(qn("w:themeFontLang"))
    if theme_lang is not None:
        theme_lang.set(qn("w:val"), language)
    # Explicit fonts: theme fonts win over named ones in Word, so drop them.
    for fonts in styles.iter(qn("w:rFonts")):
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme"):
            fonts.attrib.pop(qn(attr), None)
        fonts.set(qn("w:ascii"), FONT)
        fonts.set(qn("w:hAnsi"), FONT)

    normal = doc.styles["Normal"]
    normal.font.size = Pt(11)
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.15
    title = doc.styles["Title"]
    title.font.size, title.font.color.rgb = Pt(30), DARK
    for level, size, color, before in ((1, 16, DARK, 18), (2, 13, ACCENT, 12)):
        style = doc.styles["Heading %d" % level]
        style.font.size, style.font.color.rgb = Pt(size), color
        style.paragraph_format.space_before = Pt(before)
        style.paragraph_format.space_after = Pt(6)
    toc_heading = doc.styles["TOC Heading"]
    toc_heading.font.size, toc_heading.font.color.rgb = Pt(16), DARK
    footer = doc.styles["Footer"]
    footer.font.size, footer.font.color.rgb = Pt(9), GREY
    footer.paragraph_format.tab_stops.clear_all()  # each section's footer sets its own
    _toc_style(doc)
    table_text = doc.styles.add_style("Table Text", WD_STYLE_TYPE.PARAGRAPH)
    table_text.element.styleId = TABLE_STYLE_ID
    table_text.base_style = normal
    table_text.font.size = Pt(9.5)
    table_text.paragraph_format.space_after = Pt(1)
    table_text.paragraph_format.line_spacing = 1.0
    return doc


def _set_properties(doc, agenda, _):
    workshop = agenda["workshop"]
    props = doc.core_properties

    def limited(value):
        return xml_safe(value)[:PROPERTY_LIMIT]

    props.title = limited(workshop["title"])
    props.subject = limited("%s — %s" % (_("Draft action agenda"), xml_safe(workshop["region"])))
    props.language = _WORD_LANGUAGE.get(agenda["language"], agenda["language"])
    props.author = props.last_modified_by = limited(workshop.get("facilitator"))
    props.keywords = limited(", ".join(
        xml_safe(v) for v in (workshop.get("region"), workshop.get("sector")) if v))
    props.category = limited(_("Draft action agenda"))
    props.comments = limited(_("Based on: %(study)s (%(publisher)s, %(year)s)") % {
        "study": xml_safe(agenda["study"]["title"]),
        "publisher": xml_safe(agenda["study"]["publisher"]),
        "year": xml_safe(agenda["study"]["year"]),
    })
    props.revision = max(1, int(agenda["version"]))
    try:
        when = datetime.strptime(str(agenda["generated_at"]), "%Y-%m-%d %H:%M")
    except ValueError:
        when = datetime.now()
    props.created = props.modified = when


def _footer(section, agenda, _):
    """Title, draft number and page number at the foot of every page of section."""
    section.footer.is_linked_to_previous = False
    paragraph = section.footer.paragraphs[0]
    paragraph._p.style = "Footer"
    text_width = section.page_width - section.left_margin - section.right_margin
    paragraph.paragraph_format.tab_stops.add_tab_stop(text_width, WD_TAB_ALIGNMENT.RIGHT)
    _run(paragraph, "%s — %s" % (xml_safe(agenda["workshop"]["title"]),
                                 _draft_label(agenda, _)))
    _run(paragraph, "\t")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), " PAGE ")
    number = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    number.append(text)
    field.append(number)
    paragraph._p.append(field)


def _new_section(doc, agenda, _, landscape):
    """Start a new A4 page section, landscape or portrait, with its own footer."""
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.different_first_page_header_footer = False
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    if landscape:
        section.page_width, section.page_height = Mm(297), Mm(210)
    else:
        section.page_width, section.page_height = Mm(210), Mm(297)
    _footer(section, agenda, _)


def _toc_style(doc):
    """Word's built-in "toc 1" style, which python-docx's default document lacks."""
    style = doc.styles.add_style("toc 1", WD_STYLE_TYPE.PARAGRAPH)
    style.element.styleId = TOC_STYLE_ID
    style.element.attrib.pop(qn("w:customStyle"), None)  # a built-in style, not a custom one
    style.base_style = doc.styles["Normal"]
    style.paragraph_format.space_after = Pt(4)


# --- small writing helpers -------------------------------------------------------------


def _run(paragraph, text, *, bold=False, italic=False, color=None, size=None):
    run = paragraph.add_run(xml_safe(text))
    if bold:
        run.bold = True
    if italic:
        run.italic = True
    if color is not None:
        run.font.color.rgb = color
    if size is not None:
        run.font.size = Pt(size)
    return run


def _paragraph(doc, text, style_id=None):
    """A paragraph of text, cleaned for XML, in the style with style_id (if given).

    Styles are set by id: python-docx's look-up by name is slow.
    """
    paragraph = doc.add_paragraph()
    if style_id:
        paragraph._p.style = style_id
    if text:
        _run(paragraph, text)
    return paragraph


def _heading(doc, text, level, page_break=False):
    heading = _paragraph(doc, text, "Heading%d" % level)
    if page_break:
        heading.paragraph_format.page_break_before = True
    return heading


def _numbered_list(doc, items):
    """A numbered list that starts at 1, whatever lists came before it."""
    numbering = doc.part.numbering_part.element
    style = doc.styles["List Number"]
    base = numbering.num_having_numId(style.element.pPr.numPr.numId.val)
    num = numbering.add_num(base.abstractNumId.val)
    num.add_lvlOverride(ilvl=0).add_startOverride(1)
    for parts in items:
        paragraph = _paragraph(doc, "", "ListNumber")
        num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
        num_pr.get_or_add_ilvl().val = 0
        num_pr.get_or_add_numId().val = num.numId
        for text, fmt in parts:
            _run(paragraph, text, **fmt)


def _widths(group_count, *rest, first=4.4):
    """Column widths in cm: a wide first column, then the group columns, then rest."""
    left = TEXT_WIDTH_CM - first - sum(rest)
    return [first] + [left / max(group_count, 1)] * group_count + list(rest)


def _table(doc, headers, rows, widths, numeric=frozenset(), header_size=9):
    """A bordered table with a shaded header row that repeats on every page."""
    table = doc.add_table(rows=1, cols=len(headers))
    tbl_pr = table._tbl.tblPr
    tbl_pr.style = "TableGrid"
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    table.autofit = False
    # Narrow cell margins (0.1 cm) so the stakeholder-group columns keep whole words.
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        margin = OxmlElement("w:" + side)
        margin.set(qn("w:w"), "57")
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    look = tbl_pr.find(qn("w:tblLook"))
    if look is not None:
        look.addprevious(margins)
    else:
        tbl_pr.append(margins)
    for column, width in zip(table.columns, widths):
        column.width = Cm(width)
    header = table.rows[0]
    _set_widths(header, widths)
    _cant_split(header)
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header._tr.trPr.append(repeat)
    for index, (cell, text) in enumerate(zip(header.cells, headers)):
        _fill(cell, (text, {"bold": True, "color": DARK, "size": header_size}),
              right=index in numeric)
        _shade(cell, HEADER_FILL)
    for values in rows:
        row = table.add_row()
        _set_widths(row, widths)
        _cant_split(row)
        for index, (cell, value) in enumerate(zip(row.cells, values)):
            _fill(cell, value, right=index in numeric)
    if len(rows) <= SHORT_TABLE:
        _keep_together(table)
    doc.add_paragraph().paragraph_format.space_after = Pt(0)
    return table


def _keep_together(table):
    """Keep a short table on one page: every row but the last keeps with the next."""
    for row in table.rows[:-1]:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.keep_with_next = True


def _fill(cell, value, right=False):
    """Write value (text, (text, fmt) or a list of those) into cell at table size."""
    paragraph = cell.paragraphs[0]
    paragraph._p.style = TABLE_STYLE_ID
    if right:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    parts = value if isinstance(value, list) else [value]
    for part in parts:
        text, fmt = part if isinstance(part, tuple) else (part, {})
        _run(paragraph, text, **fmt)


def _set_widths(row, widths):
    for cell, width in zip(row.cells, widths):
        cell.width = Cm(width)


def _cant_split(row):
    row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))


def _shade(cell, fill):
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    # Keep the schema's element order: shd goes before these, if present.
    later = {qn("w:" + n) for n in ("noWrap", "tcMar", "textDirection", "tcFitText",
                                    "vAlign", "hideMark")}
    for child in tc_pr:
        if child.tag in later:
            child.addprevious(shd)
            return
    tc_pr.append(shd)


def _field_char(paragraph, kind):
    char = OxmlElement("w:fldChar")
    char.set(qn("w:fldCharType"), kind)
    paragraph.add_run()._r.append(char)
