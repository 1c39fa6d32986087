"""Working on the agenda together, the same for facilitator and participants: edits, texts, history."""
from flask import flash, redirect, request, url_for
from flask_babel import gettext

from toolkit import action as actions
from toolkit import editing, texts
from toolkit import workshop as workshops
from toolkit.i18n import N_
from toolkit.validation import Invalid, NotFound
from toolkit.web import language, render

# How each recorded field is named on the history and conflict pages.
FIELD_LABELS = {
    "recommendation_id": N_("For recommendation"),
    "what": N_("What will be done"),
    "answers_item_id": N_("Answers driver or barrier"),
    "lead": N_("Lead organisation"),
    "partners": N_("Partners"),
    "starts": N_("Start"),
    "ends": N_("End"),
    "timeline": N_("Remarks on timing"),
    "resources": N_("Resources and funding"),
    "indicator": N_("Indicator of success"),
    "first_step": N_("First step"),
    "status": N_("Status"),
    "progress": N_("Progress"),
    "body": N_("Text"),
}


def _by(facilitating: bool, me: dict | None, facilitator: dict | None) -> dict:
    if facilitating:
        return {"facilitator_id": facilitator["id"]}
    return {"participant_id": me["id"]}


def _back(workshop: dict, facilitating: bool, anchor: str):
    if facilitating:
        return redirect(url_for("facilitator.workshop", code=workshop["code"],
                                step=workshop["step"] if workshop["step"] in actions.STEPS else "actions")
                        + anchor, 303)
    return redirect(url_for("participant.current_step", code=workshop["code"]) + anchor, 303)


def _with_choices(form) -> dict:
    """The form with every field whose conflict was settled as "keep theirs" set to theirs."""
    chosen = dict(form.items())
    for key, value in form.items():
        if key.startswith("choose_") and value == "theirs":
            field = key[len("choose_"):]
            chosen[field] = form.get("theirs_" + field, "")
    return chosen


def titles(db, workshop) -> dict:
    """Item titles by id, to show the choices an action records as ids."""
    return {item["id"]: item["title"]
            for item in workshops.items(db, workshop, include_hidden=True, lang=language())}


def action_page(db, workshop, action_id, *, facilitating=False, me=None, facilitator=None,
                follow_up=False):
    """Edit an action (or its status and progress) from the version shown; a collision shows both."""
    try:
        found = actions.get(db, workshop, action_id)
    except NotFound:
        if request.method == "GET":
            raise
        # Removed while someone was editing it: what they typed is shown, not thrown away.
        typed = [(FIELD_LABELS[f], request.form.get(f, "")) for f in actions.TEXT_FIELDS + ("progress",)
                 if request.form.get(f, "").strip()]
        return render("shared/action_gone.html", status=404, workshop=workshop, facilitating=facilitating,
                      typed=typed)
    named = titles(db, workshop)
    recommendations = actions.adopted_recommendations(db, workshop, lang=language())
    answerable = actions.answerable(db, workshop, lang=language())
    # What the action is for and answers stays on offer after leaving the agenda or the room's
    # view: a list without it would show another choice, and saving would change it unasked.
    for offered, kept in ((recommendations, found["recommendation_id"]),
                          (answerable, found["answers_item_id"])):
        if kept and kept not in {item["id"] for item in offered}:
            offered.append({"id": kept, "title": named[kept]})
    context = {
        "workshop": workshop, "action": found, "facilitating": facilitating, "me": me,
        "follow_up": follow_up, "titles": named,
        "recommendations": recommendations,
        "answerable": answerable,
        "statuses": actions.STATUSES, "status_labels": dict(actions.STATUSES),
        "field_labels": FIELD_LABELS,
        # The room reads what it may no longer change; saving would only be refused.
        "read_only": not facilitating and not actions.room_may_work(db, workshop),
    }
    if request.method == "GET":
        return render("shared/action_edit.html", form=found, **context)
    form = _with_choices(request.form)
    try:
        saved = actions.edit(db, workshop, action_id, form, follow_up=follow_up,
                             **_by(facilitating, me, facilitator))
    except Invalid as error:
        return render("shared/action_edit.html", status=422, form=form,
                      error=gettext(error.message, **error.params), error_field=error.field, **context)
    except editing.Conflict as conflict:
        # The version the conflict was found at, not one read again now: a save in between
        # would otherwise be taken as seen, and settling this form would undo it unasked.
        return render("shared/action_edit.html", status=409, conflict=conflict,
                      form={**form, **conflict.merged, "version": conflict.version}, **context)
    flash(gettext("The action “%(what)s” was saved.", what=saved["what"]), "ok")
    return _back(workshop, facilitating, f"#action-{saved['id']}")


def text_page(db, workshop, key, *, facilitating=False, me=None, facilitator=None):
    """Write one of the agenda's texts from the version shown; a collision shows both."""
    current = texts.all_texts(db, workshop).get(key)
    if current is None:
        raise NotFound(key)
    labels = {k: (label, hint) for k, label, hint in texts.TEXTS}
    context = {"workshop": workshop, "key": key, "label": labels[key][0], "hint": labels[key][1],
               "facilitating": facilitating, "me": me, "max_length": texts.MAX_TEXT,
               "current": current,
               "read_only": not facilitating and not actions.room_may_work(db, workshop)}
    if request.method == "GET":
        return render("shared/text_edit.html", form=current, **context)
    form = _with_choices(request.form)
    try:
        texts.save(db, workshop, key, form, **_by(facilitating, me, facilitator))
    except Invalid as error:
        return render("shared/text_edit.html", status=422, form=form,
                      error=gettext(error.message, **error.params), error_field=error.field, **context)
    except editing.Conflict as conflict:
        # The version the conflict was found at (see action_page).
        return render("shared/text_edit.html", status=409, conflict=conflict,
                      form={**form, "version": conflict.version}, **context)
    flash(gettext("“%(text)s” was saved.", text=gettext(labels[key][0])), "ok")
    return _back(workshop, facilitating, f"#text-{key}")


def history_page(db, workshop, subject=None, *, facilitating=False, me=None, heading=None):
    """Who changed what and when, newest first: of one action or text, or the whole agenda."""
    return render("shared/history.html", workshop=workshop, facilitating=facilitating, me=me,
                  edits=editing.history(db, workshop, subject), heading=heading,
                  titles=titles(db, workshop), field_labels=FIELD_LABELS,
                  status_labels=dict(actions.STATUSES),
                  text_labels={k: label for k, label, _hint in texts.TEXTS})
