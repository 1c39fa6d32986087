"""Render a draft regional action agenda (plain data from toolkit.agenda) to a Word document."""
# The renderer knows neither the database nor Flask: `render(agenda)` takes the agenda dict
# and returns .docx bytes. Everything visual comes from a Word template (agendas/, made by
# toolkit.agenda_template): the body is built with the template's style names only, so an
# organisation restyles the agenda in Word without touching this code.
#
# Paragraphs and tables are written as XML elements directly: python-docx's own
# builders look up the schema order for every property they add, which made a large
# agenda several times slower.
import io
import os
import re
import struct
from datetime import datetime
from pathlib import Path

from babel.dates import format_date
from babel.numbers import format_decimal
from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from docx.shared import Cm

import toolkit
from toolkit import figures
from toolkit.i18n import gettext_for

AGENDAS = Path(toolkit.__file__).resolve().parent.parent / "agendas"
TEMPLATES_ENV = "TOOLKIT_AGENDAS"

# Characters XML 1.0 forbids (C0 controls except tab/newline/CR, lone surrogates, U+FFFE/FFFF).
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_PLACEHOLDER = re.compile(r"\{(title|draft)\}")

_WORD_LANGUAGE = {"nl": "nl-NL", "en": "en-GB"}
_LOCALE = {"nl": "nl_NL", "en": "en_GB"}
PROPERTY_LIMIT = 255  # python-docx refuses longer core properties
SHORT_TABLE = 12  # tables with up to this many rows are kept on one page
TWIPS_PER_CM = 567
ORIGIN_STYLES = {  # origin → (label style, wording style)
    "study": ("Study Label", "Study Quote"),
    "derived": ("Derived Label", "Derived Wording"),
    "workshop": ("Workshop Label", "Workshop Addition"),
}

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


def xml_safe(text) -> str:
    """text as a string Word accepts: forbidden XML characters removed, line ends as \\n."""
    if text is None:
        return ""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    return _FORBIDDEN.sub("", text)


def template_path(language: str) -> Path:
    """The template for language: from the folder in $TOOLKIT_AGENDAS, else the default."""
    name = f"agenda-{language}.docx"
    folder = os.environ.get(TEMPLATES_ENV)
    if folder:
        if not Path(folder).is_dir():
            raise FileNotFoundError(f"{TEMPLATES_ENV}={folder} is not a folder")
        if (Path(folder) / name).is_file():
            return Path(folder) / name
    return AGENDAS / name  # a folder without this language falls back to the default


def render(agenda: dict, template=None) -> bytes:
    """The draft action agenda as .docx bytes, in agenda["language"], styled by template."""
    # template: a path or binary file of a .docx; by default template_path(language).
    if template is None:
        template = template_path(agenda["language"])
    doc = Document(os.fspath(template) if isinstance(template, os.PathLike) else template)
    # Older drafts' data may lack action numbers: number them in document order.
    agenda = {**agenda, "actions": [
        {**action, "number": action.get("number") or index}
        for index, action in enumerate(agenda.get("actions") or [], 1)]}
    writer = _Writer(doc, agenda)
    writer.clear_body()
    _set_properties(doc, agenda, writer._)
    _title_page(writer, agenda)
    _contents(writer)
    _summary(writer, agenda)
    _changes(writer, agenda)
    _introduction(writer, agenda)
    _participation(writer, agenda)
    _drivers(writer, agenda)
    _barriers_and_success_factors(writer, agenda)
    _priorities(writer, agenda)
    writer.new_section(landscape=True)  # room for the action plan's columns
    _action_plan(writer, agenda)
    writer.new_section(landscape=False)
    _matrix(writer, agenda)
    _next_steps(writer, agenda)
    _annex(writer, agenda)
    _comments(writer, agenda)
    _source(writer, agenda)
    writer.fill_contents()
    _fill_placeholders(doc, {"title": " ".join(xml_safe(agenda["workshop"]["title"]).split()),
                             "draft": _draft_label(agenda, writer._)})
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# --- the chapters ----------------------------------------------------------------------


def _title_page(w, agenda):
    _ = w._
    workshop, study = agenda["workshop"], agenda["study"]
    w.paragraph(workshop["title"], "Title")
    w.paragraph(_("Draft action agenda"), "Subtitle")
    place = [xml_safe(workshop.get("region"))]
    if workshop.get("sector"):
        place.append(xml_safe(workshop["sector"]))
    w.paragraph(" · ".join(v for v in place if v))
    when = _format_date(workshop.get("date"), agenda["language"])
    w.paragraph(([when + " · "] if when else []) + [(_draft_label(agenda, _), "Strong")])
    w.paragraph(_("Based on: %(study)s (%(publisher)s, %(year)s)") % {
        "study": xml_safe(study["title"]),
        "publisher": xml_safe(study["publisher"]),
        "year": xml_safe(study["year"]),
    })
    small = []
    if workshop.get("facilitator"):
        small.append(_("Facilitator: %(name)s") % {"name": xml_safe(workshop["facilitator"])})
        small.append("\n")
    small.append(_("Generated on %(when)s") % {"when": xml_safe(agenda["generated_at"])})
    if workshop.get("closed"):
        small.append("\n" + _("The workshop has closed; this draft follows up on its actions."))
    w.paragraph(small, "Small Print")


def _contents(w):
    _ = w._
    w.contents_heading = w.paragraph(_("Contents"), "TOC Heading", page_break=True)
    w.break_before_next_chapter = True


def _summary(w, agenda):
    summary = (agenda.get("texts") or {}).get("summary")
    if not xml_safe(summary).strip():
        return
    w.heading(w._("Summary"), 1)
    w.workshop_text(summary)


def _changes(w, agenda):
    changes = agenda.get("changes")
    if changes is None:
        return
    _ = w._
    since = _("draft v%(version)s") % {"version": changes.get("since", "")}
    w.heading(_("Changes since %(draft)s") % {"draft": since}, 1)
    lists = [
        (_("New actions"), changes.get("added") or []),
        (_("Changed actions"), changes.get("changed") or []),
        (_("Removed actions"), changes.get("removed") or []),
        (_("Progress reported"), changes.get("progress") or []),
    ]
    moved = [_("%(title)s: from place %(from)s to %(to)s")
             % {"title": xml_safe(m.get("title")), "from": m.get("from"), "to": m.get("to")}
             for m in changes.get("moved") or []]
    priorities = (
        [_("New priority: %(title)s") % {"title": xml_safe(t)}
         for t in changes.get("new_priorities") or []]
        + [_("No longer a priority: %(title)s") % {"title": xml_safe(t)}
           for t in changes.get("dropped_priorities") or []]
        + moved)
    lists.append((_("Changes in the priorities"), priorities))
    if not any(entries for _title, entries in lists):
        w.paragraph(_("Nothing changed since %(draft)s.") % {"draft": since})
        return
    w.paragraph(_("What changed in this draft compared with %(draft)s:") % {"draft": since})
    for title, entries in lists:
        if entries:
            w.heading(title, 3)
            for entry in entries:
                w.paragraph(entry, "List Bullet")


def _introduction(w, agenda):
    _ = w._
    study, workshop = agenda["study"], agenda["workshop"]
    w.heading(_("Introduction and method"), 1)
    w.heading(_("The study"), 2)
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
    w.paragraph(text)
    if study.get("aim"):
        w.paragraph([(_("Aim."), "Strong"), " " + xml_safe(study["aim"])])
    if study.get("method"):
        w.paragraph([(_("Method."), "Strong"), " " + xml_safe(study["method"])])

    questions = agenda.get("research_questions") or []
    if questions:
        w.heading(_("Research questions"), 2)
        w.paragraph(_("The study answers these research questions:"))
        items = []
        for question in questions:
            parts = [(question["title"], "Strong")]
            if question.get("explanation"):
                parts.append("\n" + xml_safe(question["explanation"]))
            items.append(parts)
        w.numbered_list(items)

    w.heading(_("The workshop"), 2)
    total = agenda["participation"]["total"]
    values = {
        "date": _format_date(workshop.get("date"), agenda["language"]),
        "total": total,
        "region": xml_safe(workshop.get("region")),
        "title": xml_safe(workshop["title"]),
        "sector": xml_safe(workshop.get("sector")),
    }
    if values["sector"]:
        w.paragraph(_("On %(date)s, %(total)s participants from %(region)s met for the "
                      "workshop “%(title)s” on the %(sector)s sector.") % values)
    else:
        w.paragraph(_("On %(date)s, %(total)s participants from %(region)s met for the "
                      "workshop “%(title)s”.") % values)
    if workshop.get("facilitator"):
        w.paragraph(_("The workshop was facilitated by %(name)s.")
                    % {"name": xml_safe(workshop["facilitator"])})

    w.heading(_("How the workshop worked"), 2)
    w.paragraph(_(
        "In each voting step, each participant had %(dots)s dots to give to the items "
        "they found most important. The numbers in this document are the dots exactly as they were cast."
    ) % {"dots": workshop.get("dots")})
    w.paragraph(_("The workshop went through these steps:"))
    w.numbered_list([
        [(_("Drivers"), "Strong"), ": " + _("which developments drive the region to act?")],
        [(_("Barriers and success factors"), "Strong"),
         ": " + _("what holds the region back, and what works?")],
        [(_("Recommendations"), "Strong"),
         ": " + _("which of the study's recommendations should the agenda adopt?")],
        [(_("Actions"), "Strong"),
         ": " + _("for each adopted recommendation, concrete actions with a lead "
                  "organisation, partners, timeline, resources and an indicator of success.")],
    ])
    matrix = agenda.get("matrix")
    if matrix:
        w.paragraph(_("The participants then rated the expected impact of each action and "
                      "the effort it takes, from 1 (low) to %(scale)s (high).")
                    % {"scale": matrix.get("scale", 5)})

    w.heading(_("Reading guide"), 2)
    w.paragraph([
        (_("From the study"), "Study Label"),
        ": " + _("the study's own words, in italics, with the reference;") + " ",
        (_("Derived from the study's finding"), "Derived Label"),
        ": " + _("the workshop's wording of a finding of the study;") + " ",
        (_("Added by the workshop"), "Workshop Label"),
        ": " + _("written by the participants themselves."),
    ])


def _participation(w, agenda):
    _ = w._
    participation = agenda["participation"]
    participants = participation.get("participants") or []
    organisations = participation.get("organisations") or []
    w.heading(_("Who took part"), 1)
    w.paragraph(_("Number of participants: %(total)s. Number of organisations: %(count)s.")
                % {"total": participation["total"], "count": len(organisations)})
    by_group: dict[str, set] = {}
    for person in participants:
        if person.get("organisation"):
            by_group.setdefault(person.get("group_label"), set()).add(
                xml_safe(person["organisation"]))
    rows = []
    for group in participation["groups"]:
        names = sorted(by_group.get(group["label"], ()), key=str.casefold)
        rows.append([group["label"], str(group["count"]), ", ".join(names)])
    rows.append([(_("Total"), "Strong"), (str(participation["total"]), "Strong"),
                 (str(len(organisations)), "Strong")])
    widths = w.widths([4.5, 2.3], rest_first=False)
    w.table([_("Stakeholder group"), _("Participants"), _("Organisations")], rows, widths,
            numeric={1})
    if not organisations:
        w.paragraph(_("No organisations were recorded."))

    w.heading(_("Participants"), 2)
    if agenda["workshop"].get("anonymous"):
        w.paragraph(_("Participants took part anonymously, so their names are not listed."))
    elif not participants:
        w.paragraph(_("Nobody has joined the workshop yet."))
    else:
        rows = [[person.get("name") or "—", person.get("organisation") or "",
                 person.get("group_label") or ""] for person in participants]
        w.table([_("Name"), _("Organisation"), _("Stakeholder group")], rows,
                w.scaled([5.5, 6.0, 4.5]))


def _drivers(w, agenda):
    _ = w._
    w.heading(_("What drives the region"), 1)
    w.paragraph(_("The participants chose the drivers that matter most for the region and "
                  "gave them their dots."))
    _section_items(w, agenda["sections"].get("drivers") or [])


def _barriers_and_success_factors(w, agenda):
    _ = w._
    w.heading(_("Barriers and success factors"), 1)
    w.paragraph(_("The participants named what holds the region back and what works, and "
                  "gave their dots to the ones that matter most."))
    w.heading(_("Barriers"), 2)
    _section_items(w, agenda["sections"].get("barriers") or [])
    w.heading(_("Success factors"), 2)
    _section_items(w, agenda["sections"].get("success_factors") or [])


def _priorities(w, agenda):
    _ = w._
    w.heading(_("Priorities"), 1)
    priorities = agenda.get("priorities") or []
    if not priorities:
        w.paragraph(_("The workshop has not adopted any priorities yet."))
        return
    w.paragraph(_(
        "The workshop adopted these priorities for the agenda. The table shows the dots "
        "each priority received from each stakeholder group, the total, and how many "
        "participants gave it at least one dot."))
    groups = agenda["participation"]["groups"]
    headers = [_("Priority")] + [g["label"] for g in groups] + [_("Total dots"), _("Voters")]
    rows = []
    for item in priorities:
        label = [_title_part(item), "\n", (item.get("kind_label"), "Note")]
        rows.append([label] + _group_dots(item, groups)
                    + [(str(item["dots"]), "Strong"), str(item["voters"])])
    w.table(headers, rows, w.group_widths(len(groups), 1.5, 1.6),
            numeric=set(range(1, len(headers))))
    if any(item.get("dots") for item in priorities):
        bars = [(xml_safe(item["title"]), [int(v) for v in _group_dots(item, groups)])
                for item in priorities]
        png = figures.support_chart(bars, [xml_safe(g["label"]) for g in groups],
                                    _("Dots"), width_cm=w.text_width)
        w.figure(png, w.text_width,
                 _("Dots per stakeholder group for each priority"),
                 _("Bar chart: for each priority a bar of its dots, divided by stakeholder "
                   "group. The table above gives the same numbers."))
    for item in priorities:
        w.heading([_title_part(item)], 2)
        if item.get("kind_label"):
            w.paragraph(item["kind_label"], "Small Print")
        _item_body(w, item)


def _action_plan(w, agenda):
    _ = w._
    w.heading(_("Action plan"), 1)
    vision = (agenda.get("texts") or {}).get("vision")
    actions = agenda.get("actions") or []
    if xml_safe(vision).strip():
        w.heading(_("Our vision"), 2)
        w.workshop_text(vision)
        w.heading(_("Actions"), 2)
    if not actions:
        w.paragraph(_("No actions have been proposed yet."))
    else:
        w.paragraph(_(
            "For the adopted recommendations the workshop agreed the actions below, "
            "grouped by recommendation: what will be done, who leads, who takes part, "
            "when, with which resources, and how success will be recognised."))
        _action_table(w, agenda, actions)
    adopted = [item["title"] for item in agenda["sections"].get("recommendations") or []
               if item.get("adopted")]
    with_actions = {action.get("recommendation") for action in actions}
    waiting = [title for title in adopted if title not in with_actions]
    if waiting:
        w.paragraph(_("These adopted recommendations have no actions yet:"))
        for title in waiting:
            w.paragraph(title, "List Bullet")


def _action_table(w, agenda, actions):
    _ = w._
    followup = bool(agenda.get("followup"))
    headers = [_("No."), _("Action"), _("Lead"), _("Partners"), _("Timing"),
               _("Resources and funding"), _("Indicator")]
    weights = [1.0, 6.0, 3.6, 3.8, 2.9, 3.8, 3.6]
    if followup:
        headers.append(_("Status"))
        weights.append(4.0)
    widths = w.scaled(weights)
    table = w.table(headers, [], widths)
    tbd = (_("to be decided"), "Note")
    for recommendation, group in _grouped_actions(actions):
        first = group[0]
        origin = first.get("recommendation_origin")
        title = (recommendation or _("Other actions"),
                 ORIGIN_STYLES["workshop"][1] if origin == "workshop" else None)
        cell = [title]
        if origin in ORIGIN_STYLES:
            cell += [" · ", (_origin_text(origin, w._), "Note")]
        w.row(table, [cell], widths, style="Table Group", span=len(headers))
        for index, action in enumerate(group):
            what = [(action.get("what") or _("to be decided"), "Strong")]
            if xml_safe(action.get("why")).strip():
                what.append(_Par([(_("Answers:"), "Note"), " " + xml_safe(action["why"])]))
            if xml_safe(action.get("first_step")).strip():
                what.append(_Par([(_("First step:"), "Note"),
                                  " " + xml_safe(action["first_step"])]))
            timing = action.get("timing") if "timing" in action else action.get("timeline")
            remarks = action.get("timeline") if "timing" in action else ""
            cells = [
                str(action.get("number") or ""),
                what,
                _with_volunteers(action.get("lead"), action, "lead", tbd, _),
                _with_volunteers(action.get("partners"), action, "partner", tbd, _),
                _or_tbd(timing, tbd) + ([_Par([(remarks, "Note")])]
                                        if xml_safe(remarks).strip() else []),
                _or_tbd(action.get("resources"), tbd),
                _or_tbd(action.get("indicator"), tbd),
            ]
            if followup:
                status = [(action.get("status_label") or "", "Strong")]
                if xml_safe(action.get("progress")).strip():
                    status.append(_Par([action["progress"]]))
                if action.get("progress_updated"):
                    status.append(_Par([(_("updated %(date)s") % {
                        "date": _format_date(action["progress_updated"], agenda["language"])},
                        "Note")]))
                cells.append(status)
            w.row(table, cells, widths)


def _matrix(w, agenda):
    matrix = agenda.get("matrix")
    if not matrix:
        return
    _ = w._
    actions = {a.get("number"): a for a in agenda.get("actions") or []}
    scale, threshold = matrix.get("scale", 5), matrix.get("threshold", 3.0)
    w.heading(_("Impact and effort"), 1)
    if not actions:
        w.paragraph(_("No actions have been proposed yet."))
        return
    w.paragraph(_("Participants rated each action's expected impact and the effort it takes "
                  "from 1 to %(scale)s. The matrix places each action, by its number in the "
                  "action plan, at the mean of those ratings; a mean of %(threshold)s or "
                  "more counts as high.")
                % {"scale": scale, "threshold": _decimal(threshold, agenda["language"])})
    quadrants = matrix.get("quadrants") or []
    points = [(number, float(a["impact"]), float(a["effort"]))
              for number, a in actions.items()
              if a.get("impact") is not None and a.get("effort") is not None]
    unrated = list(matrix.get("unrated") or [])
    if points:
        png = figures.matrix_chart(
            points, {q["key"]: xml_safe(q.get("label")) for q in quadrants},
            _("Impact"), _("Effort"), unrated=unrated, unrated_label=_("Not rated yet"),
            scale=scale, threshold=threshold, width_cm=min(11.0, w.text_width))
        w.figure(png, min(11.0, w.text_width), _("Impact and effort of the actions"),
                 _("Matrix of impact (up) against effort (across), split at %(threshold)s "
                   "into four quadrants, with each action drawn as its number. The table "
                   "below lists the actions per quadrant.")
                 % {"threshold": _decimal(threshold, agenda["language"])})
    else:
        w.paragraph(_("No action has been rated for impact and effort yet."))
    if unrated:
        w.paragraph([(_("Not rated yet") + ": ", "Strong"),
                     ", ".join(str(n) for n in unrated)])
    rows = []
    for quadrant in quadrants:
        label = [(quadrant.get("label"), "Strong")]
        if quadrant.get("description"):
            label.append(_Par([(quadrant["description"], "Note")]))
        rows.append([label, _numbered_titles(quadrant.get("actions") or [], actions, _)])
    if unrated:
        rows.append([[(_("Not rated yet"), "Strong")], _numbered_titles(unrated, actions, _)])
    w.table([_("Quadrant"), _("Actions")], rows, w.scaled([5.0, 11.0]))


def _next_steps(w, agenda):
    _ = w._
    w.heading(_("Next steps"), 1)
    own = (agenda.get("texts") or {}).get("next_steps")
    if xml_safe(own).strip():
        w.workshop_text(own)
    values = {
        "draft": _draft_label(agenda, _),
        "date": _format_date(agenda["workshop"].get("date"), agenda["language"]),
        "facilitator": xml_safe(agenda["workshop"].get("facilitator")),
    }
    w.paragraph(_("This document is %(draft)s of the action agenda, written down during the "
                  "workshop of %(date)s.") % values)
    if values["facilitator"]:
        w.paragraph(_("Organisations named as lead or partner are asked to check their "
                      "actions and send corrections or additions to the facilitator, "
                      "%(facilitator)s.") % values)
    else:
        w.paragraph(_("Organisations named as lead or partner are asked to check their "
                      "actions and send corrections or additions to the facilitator."))
    w.paragraph(_("The facilitator then prepares the next draft; earlier drafts are kept. "
                  "When the partners agree, the agenda can be adopted and its progress "
                  "followed with the indicators in the action plan."))
    w.heading(_("Follow-up"), 2)
    actions = agenda.get("actions") or []
    if not agenda.get("followup") or not actions:
        w.paragraph(_("No action has started yet. Later drafts show the status and progress "
                      "of every action."))
        return
    w.paragraph(_("The action plan shows the status and progress of every action. In "
                  "short:"))
    counts: dict[str, int] = {}
    for action in actions:
        label = xml_safe(action.get("status_label") or action.get("status"))
        counts[label] = counts.get(label, 0) + 1
    rows = [[label, str(count)] for label, count in counts.items()]
    w.table([_("Status"), _("Actions")], rows, w.scaled([8.0, 3.0]), numeric={1})


def _annex(w, agenda):
    _ = w._
    w.heading(_("Annex: all results"), 1, page_break=True)
    w.paragraph(_("This annex lists every item of every step, including the items that "
                  "were not adopted, with the dots per stakeholder group."))
    groups = agenda["participation"]["groups"]
    sections = agenda["sections"]
    for key, title in (("drivers", _("Drivers")), ("barriers", _("Barriers")),
                       ("success_factors", _("Success factors")),
                       ("recommendations", _("Recommendations"))):
        w.heading(title, 2)
        items = sections.get(key) or []
        if not items:
            w.paragraph(_("Nothing was put forward in this step."))
            continue
        headers = [_("Item")] + [g["label"] for g in groups] + [_("Total dots"), _("Adopted")]
        rows = []
        for item in items:
            label_style = ORIGIN_STYLES.get(item.get("origin"), ORIGIN_STYLES["workshop"])[0]
            rows.append(
                [[_title_part(item), "\n", (_origin_text(item.get("origin"), _), label_style)]]
                + _group_dots(item, groups)
                + [(str(item["dots"]), "Strong"), _("yes") if item.get("adopted") else _("no")])
        w.table(headers, rows, w.group_widths(len(groups), 1.5, 1.6),
                numeric=set(range(1, len(headers) - 1)))
    rated = [a for a in agenda.get("actions") or [] if "impact" in a or "ratings" in a]
    if rated:
        w.heading(_("Impact and effort per action"), 2)
        language = agenda["language"]
        quadrant_labels = {q["key"]: q.get("label")
                           for q in (agenda.get("matrix") or {}).get("quadrants") or []}
        rows = [[str(a.get("number") or ""), a.get("what"),
                 _decimal(a.get("impact"), language), _decimal(a.get("effort"), language),
                 str(a.get("ratings") or 0),
                 quadrant_labels.get(a.get("quadrant")) or "—"] for a in rated]
        w.table([_("No."), _("Action"), _("Impact"), _("Effort"), _("Ratings"), _("Quadrant")],
                rows, w.scaled([1.0, 7.4, 1.6, 1.6, 1.6, 2.8]), numeric={2, 3, 4})


def _comments(w, agenda):
    if "comments" not in agenda:
        return
    _ = w._
    w.heading(_("Annex: comments"), 1)
    threads = agenda.get("comments") or []
    if not threads:
        w.paragraph(_("Nobody commented on the items."))
        return
    w.paragraph(_("Every comment participants made on the items, in the order of this "
                  "document. Comments are the participants' own words."))
    anonymous = agenda["workshop"].get("anonymous")
    for thread in threads:
        w.heading(thread.get("item") or "—", 3)
        if thread.get("kind_label"):
            w.paragraph(thread["kind_label"], "Small Print")
        for comment in thread.get("comments") or []:
            w.paragraph([(comment.get("body"), "Workshop Addition")])
            who = [None if anonymous else comment.get("author"), comment.get("organisation"),
                   comment.get("at")]
            line = ", ".join(xml_safe(part) for part in who if xml_safe(part).strip())
            if line:
                w.paragraph("— " + line, "Small Print")


def _source(w, agenda):
    _ = w._
    study = agenda["study"]
    w.heading(_("Source reference"), 1)
    w.paragraph(study.get("reference"), "Bibliography")
    if study.get("report_number"):
        w.paragraph(_("Report number: %(number)s") % {"number": xml_safe(study["report_number"])})
    w.paragraph(_("Quotations from the study are marked “From the study” and give the part "
                  "of the report they come from."))


# --- items -----------------------------------------------------------------------------


def _section_items(w, items):
    """The items of one step that received dots or were adopted; the rest is in the annex."""
    _ = w._
    if not items:
        w.paragraph(_("Nothing was put forward in this step."))
        return
    shown = [item for item in items if item.get("dots") or item.get("adopted")]
    if not shown:
        w.paragraph(_("No dots were given in this step. The annex lists all items."))
        return
    for item in shown:
        w.heading([_title_part(item)], 3)
        _item_body(w, item)
    hidden = len(items) - len(shown)
    if hidden:
        w.paragraph(_("Items without dots in this step: %(count)s. The annex lists them with "
                      "all results.") % {"count": hidden})


def _item_body(w, item):
    """Explanation, where the wording comes from, and the votes of one item."""
    _ = w._
    kind = item.get("origin") if item.get("origin") in ORIGIN_STYLES else "workshop"
    label_style, wording_style = ORIGIN_STYLES[kind]
    if item.get("explanation"):
        w.paragraph([(item["explanation"], wording_style if kind == "workshop" else None)])
    if kind == "study":
        parts = [(_("From the study"), label_style)]
        if item.get("source"):
            parts += [": ", (_("“%(quote)s”") % {"quote": xml_safe(item["source"])},
                             wording_style)]
        if item.get("reference"):
            parts.append((" (%s)" % xml_safe(item["reference"]), wording_style))
    elif kind == "derived":
        if item.get("derived_from"):
            marker = _("Derived from the study's finding: %(finding)s") % {
                "finding": xml_safe(item["derived_from"])}
        else:
            marker = _("Derived from the study")
        parts = [(marker, label_style)]
        if item.get("source"):
            parts.append((" — " + xml_safe(item["source"]), wording_style))
        if item.get("reference"):
            parts.append((" (%s)" % xml_safe(item["reference"]), wording_style))
    else:
        parts = [(_("Added by the workshop"), label_style)]
    w.paragraph(parts)
    votes = [_("Dots: %(dots)s · participants who gave dots: %(voters)s")
             % {"dots": item["dots"], "voters": item["voters"]}]
    if item.get("adopted"):
        votes += [" · ", (_("adopted as a priority"), "Strong")]
    w.paragraph(votes, "Small Print")


def _title_part(item):
    """An item's title, in the workshop's style when the workshop wrote it."""
    if item.get("origin") == "workshop":
        return (item.get("title"), ORIGIN_STYLES["workshop"][1])
    return (item.get("title"), "Strong")


def _origin_text(origin, _):
    if origin == "study":
        return _("From the study")
    if origin == "derived":
        return _("Derived from the study")
    return _("Added by the workshop")


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


def _with_volunteers(named, action, role, tbd, _):
    """A lead or partners cell: who was named, then who volunteered for the role."""
    volunteers = _volunteers(action, role)
    if not volunteers:
        return _or_tbd(named, tbd)
    parts = [named] if xml_safe(named).strip() else []
    parts.append(_Par([(_("Volunteered:"), "Note"), " " + ", ".join(volunteers)]))
    return parts


def _volunteers(action, role):
    return [xml_safe(v.get("organisation")) for v in action.get("volunteers") or []
            if v.get("role") == role and xml_safe(v.get("organisation")).strip()]


def _or_tbd(value, tbd):
    return [value] if xml_safe(value).strip() else [tbd]


def _numbered_titles(numbers, actions, _):
    """One paragraph per action number: "3. what", or a dash when there are none."""
    if not numbers:
        return [("—", "Note")]
    parts = []
    for number in numbers:
        line = "%s. %s" % (number, xml_safe((actions.get(number) or {}).get("what")))
        parts.append(_Par([line]) if parts else line)
    return parts


def _draft_label(agenda, _):
    return _("draft v%(version)s") % {"version": agenda["version"]}


def _format_date(value, language):
    try:
        return format_date(datetime.strptime(str(value), "%Y-%m-%d").date(), "long",
                           locale=_LOCALE.get(language, language))
    except ValueError:
        return xml_safe(value)


def _decimal(value, language):
    if value is None:
        return "—"
    return format_decimal(float(value), "0.0", locale=_LOCALE.get(language, language))


def _set_properties(doc, agenda, _):
    workshop = agenda["workshop"]
    props = doc.core_properties

    def limited(value):
        return xml_safe(value)[:PROPERTY_LIMIT]

    props.title = limited(workshop["title"])
    props.subject = limited("%s — %s" % (_("Draft action agenda"),
                                         xml_safe(workshop.get("region"))))
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


def _fill_placeholders(doc, values):
    """Replace {title} and {draft} in every header and footer, keeping each run's look."""
    # Word may split a placeholder over several runs after editing, so the text of a
    # paragraph's runs is matched as a whole and the replacement goes into the first run.
    for rel in doc.part.rels.values():
        if rel.reltype not in (RT.HEADER, RT.FOOTER):
            continue
        paragraphs: dict = {}
        for t in rel.target_part.element.iter(W + "t"):
            owner = next(t.iterancestors(W + "p"), None)
            paragraphs.setdefault(owner, []).append(t)
        for texts in paragraphs.values():
            _replace_in(texts, values)


def _replace_in(texts, values):
    joined = "".join(t.text or "" for t in texts)
    starts, offset = [], 0
    for t in texts:
        starts.append(offset)
        offset += len(t.text or "")

    def locate(position):
        index = max(i for i, start in enumerate(starts) if start <= position)
        return index, position - starts[index]

    # From the last match back, so earlier positions stay valid.
    for match in reversed(list(_PLACEHOLDER.finditer(joined))):
        first, first_at = locate(match.start())
        last, last_at = locate(match.end() - 1)
        last_at += 1
        head = (texts[first].text or "")[:first_at]
        tail = (texts[last].text or "")[last_at:]
        for middle in texts[first + 1:last]:
            middle.text = ""
        if last != first:
            texts[last].text = tail
            tail = ""
        texts[first].text = head + values[match.group(1)] + tail
        for t in (texts[first], texts[last]):
            t.set(XML_SPACE, "preserve")


# --- writing the document --------------------------------------------------------------


class _Par:
    """A further paragraph inside a table cell: its parts (text or (text, character style))."""

    def __init__(self, parts):
        self.parts = parts


class _Writer:
    """Builds the body of one document with the template's styles, looked up by name."""

    def __init__(self, doc, agenda):
        self.doc, self.agenda = doc, agenda
        self._ = gettext_for(agenda["language"])
        self.body = doc.element.body
        self.sect_pr = self.body.find(W + "sectPr")
        self.style_ids = {}
        for style in doc.styles.element.iter(W + "style"):
            name = style.find(W + "name")
            if name is not None:
                key = (style.get(W + "type"), name.get(W + "val").lower())
                self.style_ids.setdefault(key, style.get(W + "styleId"))
        section = doc.sections[0]
        self.portrait = (section.page_width, section.page_height)
        self.margins = section.left_margin + section.right_margin
        self.text_width = self.portrait_width = (section.page_width - self.margins) / Cm(1)
        self.toc: list[tuple[int, str]] = []
        self.contents_heading = None
        self.break_before_next_chapter = False
        self.figure_count = 0
        # Pictures need ids unique in the whole document, a logo in the header included.
        self.drawing_id = max([int(d.get("id", 0)) for rel in doc.part.rels.values()
                               if rel.reltype in (RT.HEADER, RT.FOOTER)
                               for d in rel.target_part.element.iter(qn("wp:docPr"))] + [0])

    def clear_body(self):
        """Drop the template's sample text; its section properties stay."""
        for child in list(self.body):
            if child.tag != W + "sectPr":
                self.body.remove(child)

    # styles

    def style_id(self, name, kind="paragraph"):
        """The id of the template's style called name (None when the template lacks it)."""
        return self.style_ids.get((kind, name.lower()))

    # paragraphs

    def paragraph(self, content="", style="Normal", page_break=False, parent=None):
        """A paragraph of content (text or a list of text and (text, character style))."""
        p = self.body.makeelement(W + "p", {})
        if parent is None:
            self.sect_pr.addprevious(p)
        else:
            parent.append(p)
        style_id = self.style_id(style) if style and style != "Normal" else None
        if style_id or page_break:
            p_pr = _sub(p, "pPr")
            if style_id:
                _sub(p_pr, "pStyle", val=style_id)
            if page_break:
                _sub(p_pr, "pageBreakBefore")
        parts = content if isinstance(content, list) else [content]
        for part in parts:
            text, char_style = part if isinstance(part, tuple) else (part, None)
            self.run(p, text, char_style)
        return p

    def run(self, p, text, char_style=None):
        """A run of text at the end of paragraph p, in char_style if given."""
        text = xml_safe(text)
        if not text:
            return
        r = _sub(p, "r")
        if char_style:
            style_id = self.style_id(char_style, "character")
            if style_id:
                _sub(_sub(r, "rPr"), "rStyle", val=style_id)
        # Line breaks and tabs are elements of their own in a run, as Word writes them.
        for index, line in enumerate(text.split("\n")):
            if index:
                _sub(r, "br")
            for position, piece in enumerate(line.split("\t")):
                if position:
                    _sub(r, "tab")
                if piece:
                    t = _sub(r, "t")
                    t.text = piece
                    t.set(XML_SPACE, "preserve")

    def heading(self, content, level, page_break=False):
        """A heading; levels 1 and 2 go into the table of contents."""
        if level == 1 and self.break_before_next_chapter:
            page_break, self.break_before_next_chapter = True, False
        p = self.paragraph(content, "Heading %d" % level, page_break=page_break)
        if level <= 2:
            parts = content if isinstance(content, list) else [content]
            self.toc.append((level, "".join(
                xml_safe(part[0] if isinstance(part, tuple) else part) for part in parts)))
        return p

    def workshop_text(self, text):
        """The group's own text: marked as theirs, paragraphs split at blank lines."""
        self.paragraph([(self._("Added by the workshop"), "Workshop Label")], "Small Print")
        for block in re.split(r"\n\s*\n", xml_safe(text).strip()):
            self.paragraph([(block, "Workshop Addition")])

    def numbered_list(self, items):
        """A numbered list that starts at 1, whatever lists came before it."""
        num_id = self._restarted_numbering()
        for parts in items:
            p = self.paragraph(parts, "List Number")
            if num_id is not None:
                p_pr = p.find(W + "pPr")
                num_pr = _sub(p_pr, "numPr")
                _sub(num_pr, "ilvl", val="0")
                _sub(num_pr, "numId", val=str(num_id))

    def _restarted_numbering(self):
        style_id = self.style_id("List Number")
        style = next((s for s in self.doc.styles.element.iter(W + "style")
                      if s.get(W + "styleId") == style_id), None)
        num_id = style.find(f"{W}pPr/{W}numPr/{W}numId") if style is not None else None
        if num_id is None:
            return None  # a template without list numbering: the style alone
        numbering = self.doc.part.numbering_part.element
        base = numbering.num_having_numId(int(num_id.get(W + "val")))
        num = numbering.add_num(base.abstractNumId.val)
        num.add_lvlOverride(ilvl=0).add_startOverride(1)
        return num.numId

    # tables

    def scaled(self, weights):
        """Column widths in cm: weights scaled to fill the text width."""
        total = sum(weights)
        return [self.text_width * weight / total for weight in weights]

    def widths(self, fixed, rest_first=True):
        """The fixed widths in cm, and one column taking what is left of the text width."""
        left = max(self.text_width - sum(fixed), 2.0)
        return [left] + fixed if rest_first else fixed + [left]

    def group_widths(self, group_count, *rest, first=4.2):
        """A wide first column, then one per stakeholder group, then rest (cm)."""
        left = self.text_width - first - sum(rest)
        return [first] + [left / max(group_count, 1)] * group_count + list(rest)

    def table(self, headers, rows, widths, numeric=frozenset()):
        """A table in the template's table style whose header row repeats on every page."""
        tbl = self.body.makeelement(W + "tbl", {})
        self.sect_pr.addprevious(tbl)
        tbl_pr = _sub(tbl, "tblPr")
        style_id = (self.style_id("Agenda Table", "table")
                    or self.style_id("Table Grid", "table"))
        if style_id:
            _sub(tbl_pr, "tblStyle", val=style_id)
        _sub(tbl_pr, "tblW", w=str(sum(_twips(x) for x in widths)), type="dxa")
        _sub(tbl_pr, "tblLayout", type="fixed")
        _sub(tbl_pr, "tblLook", val="04A0", firstRow="1", lastRow="0", firstColumn="0",
             lastColumn="0", noHBand="1", noVBand="1")
        grid = _sub(tbl, "tblGrid")
        for width in widths:
            _sub(grid, "gridCol", w=str(_twips(width)))
        self.row(tbl, headers, widths, style="Table Heading", header=True)
        for values in rows:
            self.row(tbl, values, widths, numeric=numeric)
        if len(rows) <= SHORT_TABLE:
            # Keep a short table on one page: every row but the last keeps with the next.
            for tr in tbl.findall(W + "tr")[:-1]:
                for p in tr.iter(W + "p"):
                    p_pr = p.find(W + "pPr")
                    if p_pr is None:
                        p_pr = _sub(p, "pPr")
                        p.insert(0, p_pr)
                    if p_pr.find(W + "keepNext") is None:
                        keep = p_pr.makeelement(W + "keepNext", {})
                        style = p_pr.find(W + "pStyle")
                        if style is not None:
                            style.addnext(keep)
                        else:
                            p_pr.insert(0, keep)
        # Word needs a paragraph between two tables, and it gives the table room below.
        self.paragraph("")
        return tbl

    def row(self, tbl, values, widths, style="Table Text", header=False, span=1,
            numeric=frozenset()):
        """A row of cells; a cell value is text, (text, style) or a list with _Par items."""
        tr = _sub(tbl, "tr")
        tr_pr = _sub(tr, "trPr")
        _sub(tr_pr, "cantSplit")
        if header:
            _sub(tr_pr, "tblHeader")
        if span > 1:
            widths = [sum(widths)]
        for index, (value, width) in enumerate(zip(values, widths)):
            tc = _sub(tr, "tc")
            tc_pr = _sub(tc, "tcPr")
            _sub(tc_pr, "tcW", w=str(_twips(width)), type="dxa")
            if span > 1:
                _sub(tc_pr, "gridSpan", val=str(span))
            cell_style = "Table Number" if index in numeric and not header else style
            parts = value if isinstance(value, list) else [value]
            current, started = [], False
            for part in parts:
                if isinstance(part, _Par):
                    if current or started:
                        self.paragraph(current, cell_style, parent=tc)
                    current, started = list(part.parts), True
                else:
                    current.append(part)
            self.paragraph(current, cell_style, parent=tc)
        return tr

    # figures

    def figure(self, png, width_cm, title, description):
        """The chart png at width_cm (less if the page is short), with caption and alt text."""
        width_px, height_px = struct.unpack(">II", png[16:24])  # the PNG's IHDR chunk
        section = self.doc.sections[-1]
        room = (section.page_height - section.top_margin - section.bottom_margin) / Cm(1)
        width_cm = min(width_cm, self.text_width, room * 0.8 * width_px / height_px)
        paragraph = self.doc.add_paragraph()
        style_id = self.style_id("Figure")
        if style_id:
            paragraph._p.get_or_add_pPr().style = style_id
        run = paragraph.add_run()
        run.add_picture(io.BytesIO(png), width=Cm(width_cm))
        for doc_pr in run._r.iter(qn("wp:docPr")):
            self.drawing_id += 1
            doc_pr.set("id", str(self.drawing_id))
            doc_pr.set("descr", xml_safe(description))
            doc_pr.set("title", xml_safe(title))
        self.figure_count += 1
        caption = self.paragraph(self._("Figure") + " ", "Caption")
        _field(caption, "SEQ Figure \\* ARABIC", str(self.figure_count))
        self.run(caption, ": " + xml_safe(title))

    # sections and contents

    def new_section(self, landscape):
        """Start a new page in landscape or portrait; headers and footers carry on."""
        section = self.doc.add_section(WD_SECTION.NEW_PAGE)
        section.different_first_page_header_footer = False  # the title page's is not theirs
        width, height = self.portrait
        if landscape:
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = height, width
        else:
            section.orientation = WD_ORIENT.PORTRAIT
            section.page_width, section.page_height = width, height
        self.sect_pr = self.body.find(W + "sectPr")
        self.text_width = (section.page_width - self.margins) / Cm(1)

    def fill_contents(self):
        """A TOC field after the contents heading, its cached result the document's headings."""
        # Word fills in page numbers on "Update field"; until then the headings show.
        if self.contents_heading is None:
            return
        entries = self.toc or [(1, "")]
        made = []
        for index, (level, text) in enumerate(entries):
            p = self.paragraph("", "toc %d" % level)
            if index == 0:
                _field_char(p, "begin")
                instr = _sub(_sub(p, "r"), "instrText")
                instr.text = ' TOC \\o "1-2" \\h \\z \\u '
                instr.set(XML_SPACE, "preserve")
                _field_char(p, "separate")
            self.run(p, text)
            made.append(p)
        hint = self.paragraph([(self._("Right-click to update the table of contents."),
                                "Note")], "Small Print")
        _field_char(hint, "end")
        made.append(hint)
        anchor = self.contents_heading
        for p in made:
            anchor.addnext(p)
            anchor = p


def _sub(parent, tag, **attrs):
    """A new w:tag element at the end of parent, with w: attributes."""
    element = parent.makeelement(W + tag, {W + key: value for key, value in attrs.items()})
    parent.append(element)
    return element


def _twips(cm):
    return int(round(cm * TWIPS_PER_CM))


def _field_char(p, kind):
    _sub(_sub(p, "r"), "fldChar", fldCharType=kind)


def _field(p, instruction, cached):
    """A field (such as SEQ) with its cached result, so readers see a value before updating."""
    _field_char(p, "begin")
    instr = _sub(_sub(p, "r"), "instrText")
    instr.text = " %s " % instruction
    instr.set(XML_SPACE, "preserve")
    _field_char(p, "separate")
    t = _sub(_sub(p, "r"), "t")
    t.text = cached
    _field_char(p, "end")
