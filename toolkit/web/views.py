"""What the facilitator's and a participant's step pages share: gathering a step's contents."""
from flask import request
from flask_babel import gettext

from toolkit import action as actions
from toolkit import agenda, catalogue, comment, consensus, participant, vote
from toolkit import step as steps
from toolkit import workshop as workshops
from toolkit.web import error_fragment, htmx, language, render


def step_page(db, workshop, step, facilitating=False, me=None, error=None, fragment=None, **extra):
    """The page for step, as the facilitator or as participant me sees it (or one fragment of it)."""
    lang = language()
    context = {
        **extra,
        "workshop": workshop,
        "step": step,
        "facilitating": facilitating,
        "me": me,
        "before_after": workshops.neighbour_steps(step),
        "counts": participant.count_by_group(db, workshop),
        "rules": steps.settings(db, workshop, step),
        "done": steps.done(db, workshop, step),
        "form": {},
    }
    context["seconds_left"] = steps.seconds_left(context["rules"])
    if error is not None:
        message = gettext(error.message, **error.params)
        if htmx:
            return error_fragment(message, 422)
        context.update(error=message, error_field=error.field, form=request.form)
    if step == "welcome":
        context["study"] = catalogue.study(lang)
        for kind in ("research_question", "driver", "finding", "recommendation", "case"):
            context[kind] = catalogue.items(db, lang, kind)
    kinds = workshops.STEP_KINDS.get(step)
    if kinds:
        context["kinds"] = kinds
        listed = workshops.items(db, workshop, kinds=kinds, include_hidden=True, lang=lang)
        context["empty_tally"] = vote.empty_tally()
        context["comments"] = comment.for_items(db, workshop, include_hidden=facilitating)
        context["items"] = listed
        # Results stay hidden from the room until the facilitator reveals them: nobody follows the crowd.
        if facilitating or context["rules"]["revealed"]:
            context["tallies"] = vote.tallies(db, workshop)
            context["support"] = consensus.support(db, workshop, step)
            if context["rules"]["named_votes"] and not workshop["anonymous"]:
                context["voter_names"] = vote.voter_names(db, workshop)
        if me is not None:
            mine = context["mine"] = vote.my_dots(db, me["id"])
            # A participant sees hidden items only while they still have dots on them to take back.
            context["items"] = [i for i in listed if not i["hidden"] or mine.get(i["id"])]
            context["left"] = context["rules"]["budget"] - vote.dots_used(db, workshop, me["id"], step)
    if step in ("actions", "review"):
        context["recommendations"] = actions.adopted_recommendations(db, workshop, lang=lang)
        context["actions"] = actions.for_workshop(db, workshop)
    if step == "review":
        context["agenda"] = agenda.build(db, workshop, agenda.next_version(db, workshop))
        context["drafts"] = agenda.drafts(db, workshop) if facilitating else []
    template = "facilitator/workshop.html" if facilitating else "participant/step.html"
    return render(template, fragment, status=422 if error is not None else 200, **context)
