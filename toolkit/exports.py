"""The agenda as Markdown, and the votes and actions as CSV a spreadsheet opens safely.

Markdown is for an e-mail or a wiki. Whatever people typed is turned into plain text that
no Markdown or HTML reader takes for markup: it cannot make a heading, list, link, image,
HTML or a table cell of its own. Bare web addresses are the one exception some readers
still make clickable; such a link shows its own address, as any e-mail program does.

CSV opens in Excel and LibreOffice: UTF-8 with a byte order mark (else Excel garbles the
accents), ";" and a decimal comma for Dutch workshops (what Dutch Excel expects), "," and
a decimal point for English ones, and no cell a spreadsheet would run as a formula.
"""
import csv
import io
import re

from babel.numbers import format_decimal
from sqlite_utils import Database

from toolkit import action as actions
from toolkit import catalogue, participant, vote
from toolkit import workshop as workshops
from toolkit.i18n import N_, gettext_for

# Control characters no text file should carry; tab and line ends are dealt with separately.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# Markdown and HTML metacharacters, escaped wherever they stand: CommonMark reads a backslash
# before any ASCII punctuation as that character, literally.
_MARKUP = re.compile(r"([\\`*_\[\]<>#|~$&@])")
_BREAKS = re.compile(r"[\s\u2028\u2029]*[\t\n\r\u2028\u2029][\s\u2028\u2029]*")
# GitHub turns "https://…", "www.…" and e-mail addresses into links even in plain text.
_AUTOLINK = re.compile(r"(?<=[A-Za-z]):(?=//)|(?<![\w.])(?i:www)\.(?=\S)")

# A cell that starts with one of these is a formula to a spreadsheet (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

ORIGINS = {
    "study": N_("From the study"),
    "derived": N_("Derived from the study"),
    "workshop": N_("Added by the workshop"),
}
SECTION_TITLES = (
    ("drivers", N_("Drivers")),
    ("barriers", N_("Barriers")),
    ("success_factors", N_("Success factors")),
    ("recommendations", N_("Recommendations")),
)


def plain(value) -> str:
    """Text in one line, control characters removed, every Markdown and HTML sign escaped."""
    line = _BREAKS.sub(" ", _CONTROL.sub("", "" if value is None else str(value))).strip()
    line = _MARKUP.sub(r"\\\1", line)
    line = _AUTOLINK.sub(_unlink, line)
    # An ordered list needs "1." or "1)" at the start: escaping the dot or bracket breaks it.
    line = re.sub(r"^(\d{1,9})([.)])", r"\1\\\2", line)
    return re.sub(r"^([-+=])", r"\\\1", line)


def _unlink(found) -> str:
    """An escape in the address that GitHub no longer reads as one: https\\://, www\\."""
    return "\\:" if found.group() == ":" else found.group()[:-1] + "\\."


def paragraphs(value) -> list[str]:
    """Text of several lines as Markdown paragraphs, one per line typed, each made plain."""
    lines = re.split(r"[\n\r\u2028\u2029]+", _CONTROL.sub("", "" if value is None else str(value)))
    return [line for line in map(plain, lines) if line]


def markdown(agenda: dict) -> str:
    """The agenda as Markdown in its language: headings, tables, and study wording marked."""
    _ = gettext_for(agenda.get("language") or "nl")
    blocks: list[str] = []
    _title(blocks, agenda, _)
    texts = agenda.get("texts") or {}
    if paragraphs(texts.get("summary")):
        blocks.append("## " + plain(_("Summary")))
        blocks.extend(paragraphs(texts["summary"]))
    _participation(blocks, agenda, _)
    _priorities(blocks, agenda, _)
    _action_plan(blocks, agenda, _)
    _matrix(blocks, agenda, _)
    _next_steps(blocks, agenda, _)
    _changes(blocks, agenda, _)
    _comments(blocks, agenda, _)
    _annex(blocks, agenda, _)
    _source(blocks, agenda, _)
    return "\n\n".join(block for block in blocks if block) + "\n"


def _title(blocks, agenda, _):
    workshop = agenda.get("workshop") or {}
    blocks.append("# " + plain(workshop.get("title")))
    details = [plain(workshop.get(key)) for key in ("region", "sector", "date")]
    blocks.append(" · ".join(["**" + plain(_("Draft action agenda")) + "**"] + [d for d in details if d]))
    about = []
    if workshop.get("facilitator"):
        about.append(plain(_("Facilitator: %(name)s") % {"name": workshop["facilitator"]}))
    if agenda.get("generated_at"):
        about.append(plain(_("Generated on %(when)s") % {"when": agenda["generated_at"]}))
    blocks.extend(about)
    blocks.append("## " + plain(_("Reading guide")))
    guide = (
        ("study", _("the study's own words, in italics, with the reference;")),
        ("derived", _("the workshop's wording of a finding of the study;")),
        ("workshop", _("written by the participants themselves.")),
    )
    blocks.append("\n".join(f"- {_marker(origin, _)}: {plain(text)}" for origin, text in guide))


def _marker(origin, _) -> str:
    """Where an item's wording comes from; the workshop's own stands out in bold."""
    label = plain(_(ORIGINS.get(origin, ORIGINS["workshop"])))
    return f"*{label}*" if origin in ("study", "derived") else f"**{label}**"


def _table(headers: list[str], rows: list[list], numeric=()) -> str:
    """A GFM table; headers and cells are made plain here, numbers aligned right."""
    lines = ["| " + " | ".join(plain(h) for h in headers) + " |",
             "| " + " | ".join("---:" if i in numeric else "---" for i in range(len(headers))) + " |"]
    for row in rows:
        lines.append("| " + " | ".join(cell if isinstance(cell, _Markup) else plain(cell) for cell in row) + " |")
    return "\n".join(lines)


class _Markup(str):
    """A table cell already made of plain text and our own markup."""


def _participation(blocks, agenda, _):
    participation = agenda.get("participation") or {}
    groups = participation.get("groups") or []
    organisations = participation.get("organisations") or []
    blocks.append("## " + plain(_("Who took part")))
    blocks.append(plain(_("Number of participants: %(total)s. Number of organisations: %(count)s.")
                        % {"total": participation.get("total", 0), "count": len(organisations)}))
    rows = [[g.get("label"), g.get("count", 0)] for g in groups]
    rows.append([_Markup("**" + plain(_("Total")) + "**"), participation.get("total", 0)])
    blocks.append(_table([_("Stakeholder group"), _("Participants")], rows, numeric={1}))
    blocks.append("### " + plain(_("Organisations")))
    if organisations:
        blocks.append("\n".join("- " + plain(name) for name in organisations))
    else:
        blocks.append(plain(_("No organisations were recorded.")))
    blocks.append("### " + plain(_("Participants")))
    people = participation.get("participants") or []
    if (agenda.get("workshop") or {}).get("anonymous"):
        blocks.append(plain(_("Participants took part anonymously, so their names are not listed.")))
    elif not people:
        blocks.append(plain(_("Nobody has joined the workshop yet.")))
    else:
        blocks.append(_table([_("Name"), _("Organisation"), _("Stakeholder group")],
                             [[p.get("name"), p.get("organisation"), p.get("group_label")] for p in people]))


def _dots(item, groups) -> list:
    given = {entry.get("key"): entry.get("dots", 0) for entry in item.get("by_group") or []}
    return [given.get(group.get("key"), 0) for group in groups]


def _item_cell(item, _, with_kind=True) -> "_Markup":
    """An item's title with its kind and where its wording comes from, for a table cell."""
    kind = f"{plain(item.get('kind_label'))}, " if with_kind and plain(item.get("kind_label")) else ""
    return _Markup(f"{plain(item.get('title'))} ({kind}{_marker(item.get('origin'), _)})")


def _priorities(blocks, agenda, _):
    blocks.append("## " + plain(_("Priorities")))
    priorities = agenda.get("priorities") or []
    if not priorities:
        blocks.append(plain(_("The workshop has not adopted any priorities yet.")))
        return
    groups = (agenda.get("participation") or {}).get("groups") or []
    headers = [_("Priority")] + [g.get("label") for g in groups] + [_("Total dots"), _("Voters")]
    rows = [[_item_cell(item, _)] + _dots(item, groups) + [item.get("dots", 0), item.get("voters", 0)]
            for item in priorities]
    blocks.append(_table(headers, rows, numeric=set(range(1, len(headers)))))
    for item in priorities:
        blocks.append("### " + plain(item.get("title")))
        blocks.extend(paragraphs(item.get("explanation")))
        blocks.append(_origin_line(item, _))


def _origin_line(item, _) -> str:
    """Where the wording comes from, with the study's own words in italics and the reference."""
    origin = item.get("origin")
    if origin == "study":
        line = _marker(origin, _)
        if item.get("source"):
            line += ": *" + plain(_("“%(quote)s”") % {"quote": item["source"]}) + "*"
        if item.get("reference"):
            line += " (" + plain(item["reference"]) + ")"
        return line
    if origin == "derived" and item.get("derived_from"):
        return "*" + plain(_("Derived from the study's finding: %(finding)s")
                           % {"finding": item["derived_from"]}) + "*"
    return _marker(origin, _)


def _number(value, lang) -> str:
    return format_decimal(value, format="0.0#", locale=lang)


def _action_plan(blocks, agenda, _):
    lang = agenda.get("language") or "nl"
    blocks.append("## " + plain(_("Action plan")))
    vision = paragraphs((agenda.get("texts") or {}).get("vision"))
    if vision:
        blocks.append("### " + plain(_("Our vision")))
        blocks.extend(vision)
    listed = agenda.get("actions") or []
    if not listed:
        blocks.append(plain(_("No actions have been proposed yet.")))
    followup = agenda.get("followup", False)
    to_be_decided = "*" + plain(_("to be decided")) + "*"
    grouped: dict = {}
    for number, entry in enumerate(listed, 1):
        grouped.setdefault(entry.get("recommendation") or "", []).append((entry.get("number", number), entry))
    for recommendation, entries in grouped.items():
        blocks.append("### " + (plain(recommendation) or plain(_("Other actions"))))
        if recommendation:
            blocks.append(_marker(entries[0][1].get("recommendation_origin", "workshop"), _))
        for number, entry in entries:
            blocks.append(f"#### {plain(number)}. {plain(entry.get('what'))}")
            fields = []

            def add(label, value, always=False):
                text = plain(value)
                if text or always:
                    fields.append(f"- **{plain(label)}:** {text or to_be_decided}")

            add(_("Answers"), entry.get("why"))
            add(_("Lead"), entry.get("lead"), always=True)
            add(_("Partners"), entry.get("partners"), always=True)
            volunteers = entry.get("volunteers") or []
            add(_("Volunteers"), ", ".join(
                f"{v.get('organisation') or ''} ({v.get('role_label') or v.get('role') or ''})" for v in volunteers))
            when = " — ".join(part for part in (plain(entry.get("timing")), plain(entry.get("timeline"))) if part)
            fields.append(f"- **{plain(_('Timing'))}:** {when or to_be_decided}")
            add(_("Resources and funding"), entry.get("resources"), always=True)
            add(_("Indicator of success"), entry.get("indicator"), always=True)
            add(_("First step"), entry.get("first_step"))
            if followup:
                add(_("Status"), entry.get("status_label") or entry.get("status"))
                progress = plain(entry.get("progress"))
                if progress and plain(entry.get("progress_updated")):
                    progress += f" ({plain(entry['progress_updated'])})"
                if progress:
                    fields.append(f"- **{plain(_('Progress'))}:** {progress}")
            if entry.get("ratings"):
                fields.append(" · ".join((
                    f"- **{plain(_('Impact'))}:** {_number(entry.get('impact') or 0, lang)}",
                    f"**{plain(_('Effort'))}:** {_number(entry.get('effort') or 0, lang)}",
                    f"**{plain(_('Ratings'))}:** {plain(entry['ratings'])}")))
            blocks.append("\n".join(fields))
    adopted = [item.get("title") for item in (agenda.get("sections") or {}).get("recommendations") or []
               if item.get("adopted")]
    waiting = [title for title in adopted if title not in grouped]
    if waiting:
        blocks.append(plain(_("These adopted recommendations have no actions yet:")))
        blocks.append("\n".join("- " + plain(title) for title in waiting))


def _matrix(blocks, agenda, _):
    matrix = agenda.get("matrix") or {}
    quadrants = matrix.get("quadrants") or []
    if not any(q.get("actions") for q in quadrants):
        return
    what = {entry.get("number"): entry.get("what") for entry in agenda.get("actions") or []}
    blocks.append("### " + plain(_("Impact and effort")))
    for quadrant in quadrants:
        numbers = quadrant.get("actions") or []
        blocks.append(f"**{plain(quadrant.get('label'))}** — {plain(quadrant.get('description'))}")
        if numbers:
            blocks.append("\n".join(f"- {plain(number)}\\. {plain(what.get(number))}" for number in numbers))
    if matrix.get("unrated"):
        blocks.append(plain(_("Not rated yet") + ": " + ", ".join(str(n) for n in matrix["unrated"])))


def _next_steps(blocks, agenda, _):
    blocks.append("## " + plain(_("Next steps")))
    blocks.extend(paragraphs((agenda.get("texts") or {}).get("next_steps")))
    facilitator = (agenda.get("workshop") or {}).get("facilitator")
    if facilitator:
        blocks.append(plain(_("Organisations named as lead or partner are asked to check their actions "
                              "and send corrections or additions to the facilitator, %(facilitator)s.")
                            % {"facilitator": facilitator}))
    else:
        blocks.append(plain(_("Organisations named as lead or partner are asked to check their actions "
                              "and send corrections or additions to the facilitator.")))


def _changes(blocks, agenda, _):
    """What changed since the draft before, worded as the document words it."""
    changes = agenda.get("changes")
    if not changes:
        return
    since = _("draft v%(version)s") % {"version": changes.get("since", "")}
    blocks.append("## " + plain(_("Changes since %(draft)s") % {"draft": since}))
    priorities = (
        [_("New priority: %(title)s") % {"title": title} for title in changes.get("new_priorities") or []]
        + [_("No longer a priority: %(title)s") % {"title": title}
           for title in changes.get("dropped_priorities") or []]
        + [_("%(title)s: from place %(from)s to %(to)s")
           % {"title": moved.get("title"), "from": moved.get("from"), "to": moved.get("to")}
           for moved in changes.get("moved") or []])
    lists = [(_("New actions"), changes.get("added") or []), (_("Changed actions"), changes.get("changed") or []),
             (_("Removed actions"), changes.get("removed") or []),
             (_("Progress reported"), changes.get("progress") or []),
             (_("Changes in the priorities"), priorities)]
    if not any(entries for _label, entries in lists):
        blocks.append(plain(_("Nothing changed since %(draft)s.") % {"draft": since}))
    for label, entries in lists:
        if entries:
            blocks.append("**" + plain(label) + "**")
            blocks.append("\n".join("- " + plain(text) for text in entries))


def _comments(blocks, agenda, _):
    grouped = agenda.get("comments") or []
    if not grouped:
        return
    blocks.append("## " + plain(_("Comments")))
    for group in grouped:
        kind = plain(group.get("kind_label"))
        blocks.append("### " + plain(group.get("item")) + (f" ({kind})" if kind else ""))
        lines = []
        for entry in group.get("comments") or []:
            who = ", ".join(part for part in (plain(entry.get(key)) for key in ("author", "organisation", "at"))
                            if part)
            lines.append("- " + plain(entry.get("body")) + (f" — *{who}*" if who else ""))
        blocks.append("\n".join(lines))


def _annex(blocks, agenda, _):
    blocks.append("## " + plain(_("Annex: all results")))
    groups = (agenda.get("participation") or {}).get("groups") or []
    sections = agenda.get("sections") or {}
    for key, title in SECTION_TITLES:
        blocks.append("### " + plain(_(title)))
        items = sections.get(key) or []
        if not items:
            blocks.append(plain(_("Nothing was put forward in this step.")))
            continue
        headers = [_("Item")] + [g.get("label") for g in groups] + [_("Total dots"), _("Adopted")]
        rows = [[_item_cell(item, _, with_kind=False)]
                + _dots(item, groups) + [item.get("dots", 0), _("yes") if item.get("adopted") else _("no")]
                for item in items]
        blocks.append(_table(headers, rows, numeric=set(range(1, len(headers) - 1))))


def _source(blocks, agenda, _):
    study = agenda.get("study") or {}
    if not study.get("reference"):
        return
    blocks.append("## " + plain(_("Source reference")))
    blocks.append(plain(study["reference"]))
    if study.get("report_number"):
        blocks.append(plain(_("Report number: %(number)s") % {"number": study["report_number"]}))


def cell(value):
    """A value as a CSV cell a spreadsheet shows as text: control characters gone, no formula."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = _CONTROL.sub("", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    # Leading spaces do not stop every spreadsheet from reading a formula: look past them.
    if text.startswith(FORMULA_STARTS) or text.lstrip().startswith(FORMULA_STARTS):
        text = "'" + text
    return text


def _csv(lang: str, rows) -> str:
    """Rows as CSV text with its byte order mark, separated the way the language's Excel reads."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if lang == "nl" else ",", quoting=csv.QUOTE_NONNUMERIC,
                        lineterminator="\r\n")
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return "\ufeff" + out.getvalue()


def votes_csv(db: Database, workshop: dict) -> str:
    """One row per item of every voting step: its dots per stakeholder group, total, voters, adoption."""
    lang = workshop["language"]
    _ = gettext_for(lang)
    tallies = vote.tallies(db, workshop)
    rows = [[_("Step"), _("Kind"), _("Origin"), _("Item")]
            + [_(label) for _key, label in participant.GROUPS]
            + [_("Total dots"), _("Voters"), _("Adopted"), _("Hidden")]]
    for step, kinds in workshops.STEP_KINDS.items():
        for item in workshops.items(db, workshop, kinds=kinds, include_hidden=True):
            if item["merged_into"]:
                continue  # an empty duplicate: its votes moved to the item it was merged into
            tally = tallies.get(item["id"], vote.empty_tally())
            rows.append([_(workshops.STEP_LABELS[step]), _(catalogue.KINDS[item["kind"]]),
                         _(ORIGINS[item["origin"]]), item["title"]]
                        + [tally["by_group"][key] for key in participant.GROUP_KEYS]
                        + [tally["total"], tally["voters"], _("yes") if item["adopted"] else _("no"),
                           _("yes") if item["hidden"] else _("no")])
    return _csv(lang, rows)


def actions_csv(db: Database, workshop: dict) -> str:
    """One row per action with every field, its volunteers, mean ratings, status and progress."""
    lang = workshop["language"]
    _ = gettext_for(lang)
    titles = {item["id"]: item["title"] for item in workshops.items(db, workshop, include_hidden=True)}
    offered = actions.volunteers(db, workshop)
    rated = actions.ratings(db, workshop)
    statuses = dict(actions.STATUSES)
    roles = dict(actions.ROLES)
    rows = [[_("Recommendation"), _("In the agenda"), _("Action"), _("Answers"), _("Lead"),
             _("Partners"), _("Volunteers"), _("Start"), _("End"), _("Remarks on timing"),
             _("Resources and funding"), _("Indicator of success"), _("First step"), _("Status"),
             _("Progress"), _("Progress updated"), _("Impact"), _("Effort"),
             _("Ratings"), _("Created"), _("Last changed")]]
    for row in actions.for_workshop(db, workshop):
        rating = rated.get(row["id"], {})
        rows.append([
            titles.get(row["recommendation_id"], ""),
            _("yes") if row["in_agenda"] else _("no"),
            row["what"], titles.get(row["answers_item_id"], ""), row["lead"], row["partners"],
            "; ".join(f"{v['organisation']} ({_(roles[v['role']])})" for v in offered.get(row["id"], [])),
            row["starts"], row["ends"], row["timeline"], row["resources"], row["indicator"],
            row["first_step"], _(statuses[row["status"]]), row["progress"], _stamp(row["progress_at"]),
            _number(rating["impact"], lang) if rating else "",
            _number(rating["effort"], lang) if rating else "",
            rating.get("ratings", 0), _stamp(row["created_at"]), _stamp(row["updated_at"]),
        ])
    return _csv(lang, rows)


def _stamp(value) -> str:
    """A stored UTC timestamp as a spreadsheet shows it: date and minutes."""
    return (value or "")[:16].replace("T", " ")
