"""The presenter view for the projector: join code and QR code, the room, the step, its timer and results."""
from flask import Blueprint, g, make_response, request
from flask_babel import gettext

from toolkit import action as actions
from toolkit import chart, consensus, participant, vote
from toolkit import step as steps
from toolkit import workshop as workshops
from toolkit.catalogue import KINDS
from toolkit.i18n import N_
from toolkit.participant import GROUP_KEYS, GROUP_LABELS
from toolkit.web import get_db, join_link, language, render
from toolkit.web.auth import login_required
from toolkit.web.views import matrix

bp = Blueprint("presenter", __name__, url_prefix="/facilitator/workshops/<code>/present")

# The heading of each kind's chart.
HEADINGS = {"driver": N_("Drivers"), "barrier": N_("Barriers"), "success_factor": N_("Success factors"),
            "recommendation": N_("Recommendations")}
# How each consensus verdict is coloured on the chart.
TONES = {"agree": "good", "differ": "mid", "diverge": "bad", "too_few": "none"}


def _workshop(code) -> dict:
    workshop = workshops.owned(get_db(), code, g.facilitator["id"])
    g.workshop = workshop  # the projector speaks the workshop's language
    return workshop


@bp.get("")
@login_required
def present(code):
    """The projector's page: everything the room should see, kept up to date while it is open."""
    workshop = _workshop(code)
    return render("presenter/present.html", **_context(get_db(), workshop))


@bp.get("/live")
@login_required
def live(code):
    """The projector's changing part, or an empty 204 while the workshop's revision is still rev."""
    workshop = _workshop(code)
    if request.args.get("rev") == str(workshop["revision"]):
        response = make_response("", 204)
        response.vary.add("HX-Request")
        return response
    return render("presenter/present.html", "presenter/_present.html", **_context(get_db(), workshop))


def clock(seconds: int) -> str:
    """Seconds as mm:ss, the way the timer shows them."""
    return f"{seconds // 60}:{seconds % 60:02d}"


def _context(db, workshop) -> dict:
    """What the projector shows of workshop at its current step."""
    step = workshop["step"]
    rules = steps.settings(db, workshop, step)
    counts = participant.count_by_group(db, workshop)
    link = join_link(workshop["code"])
    seconds_left = steps.seconds_left(rules)
    context = {
        "workshop": workshop,
        "step": step,
        "rules": rules,
        "seconds_left": seconds_left,
        "clock": clock(seconds_left) if seconds_left is not None else None,
        "counts": counts,
        "in_room": sum(counts.values()),
        "link": link,
        "qr": chart.qr_svg(link, gettext("QR code to join the workshop at %(link)s", link=link)),
        "colours": chart.colours(GROUP_KEYS),
    }
    if step != "welcome":
        context["done"] = len(steps.done(db, workshop, step))
    kinds = workshops.STEP_KINDS.get(step)
    if kinds:
        context["kinds"] = kinds
        if rules["revealed"]:
            context["results"] = _results(db, workshop, step, kinds, rules)
    if step in ("actions", "review"):
        context["recommendations"] = _actions_per_recommendation(db, workshop)
        context["matrix"] = matrix(db, workshop, actions.for_workshop(db, workshop))["matrix"]
    return context


def _results(db, workshop, step, kinds, rules) -> list[dict]:
    """One chart per kind of item in step: its items, highest total first, with their support."""
    tallies = vote.tallies(db, workshop)
    support = consensus.support(db, workshop, step)
    unit = gettext("points") if rules["method"] == "points" else gettext("dots")
    groups = [(key, gettext(GROUP_LABELS[key])) for key in GROUP_KEYS]
    listed = workshops.items(db, workshop, kinds=kinds, lang=language())
    results = []
    for kind in kinds:
        rows = []
        for item in listed:
            if item["kind"] != kind:
                continue
            tally = tallies.get(item["id"], vote.empty_tally())
            verdict = support.get(item["id"], {}).get("verdict", "too_few")
            rows.append({
                "id": item["id"],
                "label": item["title"],
                "total": tally["total"],
                "voters": tally["voters"],
                "segments": [{"key": key, "label": label, "value": tally["by_group"][key]}
                             for key, label in groups],
                "verdict": verdict,
                "note": gettext(consensus.VERDICTS[verdict]),
                "tone": TONES[verdict],
            })
        if not rows:
            continue
        # Ranked, so the room reads its priorities from the top; ties keep the study's order.
        rows.sort(key=lambda row: -row["total"])
        heading = gettext(HEADINGS.get(kind, KINDS.get(kind, kind)))
        results.append({"kind": kind, "heading": heading, "unit": unit, "rows": rows,
                        "title": gettext("%(kind)s: %(unit)s per item and stakeholder group",
                                         kind=heading, unit=unit)})
    # Two charts share the screen side by side: drawn narrower, so that their text stays
    # large, and under one legend on the page, so that both fit the screen's height.
    alone = len(results) == 1
    for result in results:
        result["svg"] = chart.bars_svg(result["title"], result["rows"], result["unit"],
                                       chart_id=f"chart-{result['kind']}",
                                       width=chart.WIDTH if alone else 900, legend=alone)
    return results


def _actions_per_recommendation(db, workshop) -> list[dict]:
    """Each adopted recommendation with how many actions the room has for it."""
    counted = {}
    for proposed in actions.for_workshop(db, workshop):
        counted[proposed["recommendation_id"]] = counted.get(proposed["recommendation_id"], 0) + 1
    return [
        {"id": rec["id"], "title": rec["title"], "actions": counted.get(rec["id"], 0)}
        for rec in actions.adopted_recommendations(db, workshop, lang=language())
    ]
