"""The facilitator's pages: workshops, steps, results, adoption, actions and drafts."""
from flask import Blueprint, Response, flash, g, redirect, request, url_for
from flask_babel import gettext, ngettext

from toolkit import action as actions
from toolkit import agenda, audit, cofacilitator, comment, merge, participant, privacy
from toolkit import step as steps
from toolkit import workshop as workshops
from toolkit.validation import Invalid, NotFound
from toolkit.web import agenda_pages, become, get_db, htmx, invalid, public_url_for, render
from toolkit.web.auth import login_required
from toolkit.web.views import step_page

bp = Blueprint("facilitator", __name__, url_prefix="/facilitator")


def _workshop(code) -> dict:
    workshop = workshops.owned(get_db(), code, g.facilitator["id"])
    g.workshop = workshop
    return workshop


@bp.get("/")
@login_required
def dashboard():
    """The facilitator's workshops."""
    return render("facilitator/dashboard.html",
                  workshops=workshops.for_facilitator(get_db(), g.facilitator["id"]))


@bp.route("/workshops/new", methods=["GET", "POST"])
@login_required
def new_workshop():
    """Prepare a new workshop."""
    if request.method == "POST":
        try:
            created = workshops.create(get_db(), g.facilitator["id"], request.form)
        except Invalid as error:
            return invalid(error, "facilitator/workshop_form.html", editing=None)
        flash(gettext("Workshop created. Participants join with the code %(code)s.", code=created["code"]), "ok")
        return redirect(url_for(".workshop", code=created["code"]), 303)
    defaults = {"dots": 5, "language": "nl", "date": workshops.now()[:10]}
    return render("facilitator/workshop_form.html", form=defaults, editing=None)


@bp.route("/workshops/<code>/edit", methods=["GET", "POST"])
@login_required
def edit_workshop(code):
    """Change a workshop's details."""
    workshop = _workshop(code)
    if request.method == "POST":
        try:
            workshops.update(get_db(), workshop["id"], request.form)
        except Invalid as error:
            return invalid(error, "facilitator/workshop_form.html", editing=workshop)
        flash(gettext("The workshop's details are saved."), "ok")
        return redirect(url_for(".workshop", code=code), 303)
    return render("facilitator/workshop_form.html", form=workshop, editing=workshop)


@bp.get("/workshops/<code>")
@login_required
def workshop(code):
    """Run the workshop: its join code, its steps and the step being looked at."""
    workshop = _workshop(code)
    shown = request.args.get("step", workshop["step"])
    if shown not in workshops.STEP_KEYS:
        shown = workshop["step"]
    return step_page(get_db(), workshop, shown, facilitating=True)


@bp.post("/workshops/<code>/step")
@login_required
def change_step(code):
    """Move the whole room to another step."""
    workshop = _workshop(code)
    step = request.form.get("step")
    workshops.set_step(get_db(), workshop["id"], step)
    flash(gettext("The room is now at: %(step)s.", step=gettext(workshops.STEP_LABELS[step])), "ok")
    return redirect(url_for(".workshop", code=code), 303)


@bp.get("/workshops/<code>/live")
@login_required
def live(code):
    """What changed since the page's revision: nothing (204), or the page's changing parts."""
    workshop = _workshop(code)
    if request.args.get("rev") == str(workshop["revision"]):
        return "", 204
    shown = request.args.get("step")
    if shown not in workshops.STEP_KEYS:
        shown = workshop["step"]
    return step_page(get_db(), workshop, shown, facilitating=True, fragment="facilitator/_live.html")


@bp.post("/workshops/<code>/steps/<step>")
@login_required
def control_step(code, step):
    """Lock or open a step, reveal or hide its results, set its method, start or stop its timer."""
    workshop = _workshop(code)
    db = get_db()
    if step not in workshops.STEP_KEYS:
        raise NotFound(step)
    change = request.form.get("change")
    try:
        if change in ("lock", "open"):
            steps.set_locked(db, workshop, step, change == "lock")
        elif change in ("reveal", "hide"):
            steps.set_revealed(db, workshop, step, change == "reveal")
        elif change == "timer":
            steps.start_timer(db, workshop, step, request.form.get("minutes"))
        elif change == "stop-timer":
            steps.stop_timer(db, workshop, step)
        elif change == "configure":
            steps.configure(db, workshop, step, request.form)
        else:
            raise NotFound(change)
    except Invalid as error:
        return step_page(db, workshop, step, facilitating=True, error=error)
    return redirect(url_for(".workshop", code=code, step=step) + "#controls", 303)


@bp.post("/workshops/<code>/participants")
@login_required
def add_participant(code):
    """Add someone without a device, for whom the facilitator will vote and add items."""
    workshop = _workshop(code)
    db = get_db()
    try:
        added = participant.join(db, workshop, request.form, on_behalf=True)
    except Invalid as error:
        return invalid(error, "facilitator/participants.html", workshop=workshop,
                       people=participant.in_room(db, workshop), counts=participant.count_by_group(db, workshop),
                       connected=steps.connected(db, workshop))
    flash(gettext("%(who)s was added. Use “Take part as” to vote on their behalf.",
                  who=added["name"] or added["organisation"]), "ok")
    return redirect(url_for(".participants", code=code), 303)


@bp.post("/workshops/<code>/participants/<int:participant_id>/act")
@login_required
def act_for(code, participant_id):
    """Take part as someone without a device, in this browser; their votes stay marked as such."""
    workshop = _workshop(code)
    person = participant.get(get_db(), workshop, participant_id)
    if not person["on_behalf"]:
        # Only people the facilitator added themselves: never take over a participant's own voice.
        raise NotFound(participant_id)
    become(workshop, person)
    return redirect(url_for("participant.current_step", code=code), 303)


@bp.post("/workshops/<code>/items")
@login_required
def add_item(code):
    """Add a regional item to a voting step."""
    workshop = _workshop(code)
    step = request.form.get("step", workshop["step"])
    kinds = workshops.STEP_KINDS.get(step)
    if not kinds:
        raise NotFound(step)
    try:
        added = workshops.add_item(get_db(), workshop, request.form, kinds)
    except Invalid as error:
        return step_page(get_db(), workshop, step, facilitating=True, error=error)
    flash(gettext("“%(title)s” was added.", title=added["title"]), "ok")
    return redirect(url_for(".workshop", code=code, step=step), 303)


def _item_row(workshop, changed):
    """The results table with the changed item, or the page it sits on."""
    step = workshops.KIND_STEP[changed["kind"]]
    if htmx:
        return step_page(get_db(), workshop, step, facilitating=True, fragment="facilitator/_results.html")
    return redirect(url_for(".workshop", code=workshop["code"], step=step) + f"#item-{changed['id']}", 303)


@bp.post("/workshops/<code>/items/<int:item_id>/<any(hidden, adopted):flag>")
@login_required
def flag_item(code, item_id, flag):
    """Adopt an item into the agenda or hide it from the room, or undo either."""
    workshop = _workshop(code)
    changed = workshops.set_flag(get_db(), workshop, item_id, flag, request.form.get(flag) == "1")
    return _item_row(workshop, changed)


@bp.post("/workshops/<code>/comments/<int:comment_id>/hidden")
@login_required
def hide_comment(code, comment_id):
    """Hide a comment from the room, or show it again."""
    workshop = _workshop(code)
    changed = comment.set_hidden(get_db(), workshop, comment_id, request.form.get("hidden") == "1")
    item = workshops.item(get_db(), workshop, changed["item_id"], include_hidden=True)
    return redirect(url_for(".workshop", code=code, step=workshops.KIND_STEP[item["kind"]]) + "#results", 303)


@bp.post("/workshops/<code>/merge")
@login_required
def merge_items(code):
    """Merge a duplicate into another item; its supporters and comments move along."""
    workshop = _workshop(code)
    db = get_db()
    step = request.form.get("step", workshop["step"])
    try:
        target = merge.merge(db, workshop, request.form.get("source_id"), request.form.get("target_id"))
    except Invalid as error:
        return step_page(db, workshop, step if step in workshops.STEP_KEYS else workshop["step"],
                         facilitating=True, error=error)
    flash(gettext("Merged into “%(title)s”.", title=target["title"]), "ok")
    return redirect(url_for(".workshop", code=code, step=workshops.KIND_STEP[target["kind"]]) + "#results", 303)


@bp.route("/workshops/<code>/items/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit_item(code, item_id):
    """Edit the wording of an item the room added."""
    workshop = _workshop(code)
    db = get_db()
    found = workshops.item(db, workshop, item_id, include_hidden=True)
    if request.method == "POST":
        try:
            found = merge.edit(db, workshop, item_id, request.form)
        except Invalid as error:
            return invalid(error, "facilitator/edit_item.html", workshop=workshop, item=found)
        flash(gettext("“%(title)s” was saved.", title=found["title"]), "ok")
        return redirect(url_for(".workshop", code=code, step=workshops.KIND_STEP[found["kind"]]) + "#results", 303)
    return render("facilitator/edit_item.html", workshop=workshop, item=found, form=found)


@bp.post("/workshops/<code>/actions")
@login_required
def propose_action(code):
    """Add an action on the room's behalf."""
    workshop = _workshop(code)
    try:
        proposed = actions.propose(get_db(), workshop, request.form, facilitator_id=g.facilitator["id"])
    except Invalid as error:
        return step_page(get_db(), workshop, "actions", facilitating=True, error=error)
    flash(gettext("The action “%(what)s” was added.", what=proposed["what"]), "ok")
    return redirect(url_for(".workshop", code=code, step="actions") + f"#action-{proposed['id']}", 303)


@bp.route("/workshops/<code>/actions/<int:action_id>/edit", methods=["GET", "POST"])
@login_required
def edit_action(code, action_id):
    """Edit an action; a collision with someone else's edit shows both versions."""
    workshop = _workshop(code)
    return agenda_pages.action_page(get_db(), workshop, action_id, facilitating=True,
                                    facilitator=g.facilitator)


@bp.route("/workshops/<code>/actions/<int:action_id>/progress", methods=["GET", "POST"])
@login_required
def follow_up(code, action_id):
    """Record an action's status and progress, also long after the workshop closed."""
    workshop = _workshop(code)
    return agenda_pages.action_page(get_db(), workshop, action_id, facilitating=True,
                                    facilitator=g.facilitator, follow_up=True)


@bp.get("/workshops/<code>/actions/<int:action_id>/history")
@login_required
def action_history(code, action_id):
    """Who changed this action, what and when."""
    workshop = _workshop(code)
    db = get_db()
    found = actions.get(db, workshop, action_id)
    return agenda_pages.history_page(db, workshop, actions.subject(found), facilitating=True,
                                     heading=found["what"])


@bp.route("/workshops/<code>/texts/<key>", methods=["GET", "POST"])
@login_required
def edit_text(code, key):
    """Write one of the agenda's own texts."""
    workshop = _workshop(code)
    return agenda_pages.text_page(get_db(), workshop, key, facilitating=True, facilitator=g.facilitator)


@bp.get("/workshops/<code>/history")
@login_required
def history(code):
    """Every change to the agenda's actions and texts."""
    workshop = _workshop(code)
    return agenda_pages.history_page(get_db(), workshop, facilitating=True)


@bp.post("/workshops/<code>/close")
@login_required
def close(code):
    """Close the workshop to the room, or open it again."""
    workshop = _workshop(code)
    closing = request.form.get("closed") == "1"
    workshops.set_closed(get_db(), workshop, closing)
    flash(gettext("The workshop is closed: participants can still read, but no longer change anything.")
          if closing else gettext("The workshop is open again."), "ok")
    return redirect(url_for(".workshop", code=code, step="review"), 303)


@bp.post("/workshops/<code>/actions/<int:action_id>/delete")
@login_required
def delete_action(code, action_id):
    """Remove an action."""
    workshop = _workshop(code)
    removed = actions.remove(get_db(), workshop, action_id, facilitator_id=g.facilitator["id"])
    flash(gettext("The action “%(what)s” was removed.", what=removed["what"]), "ok")
    return redirect(url_for(".workshop", code=code, step="actions"), 303)


@bp.post("/workshops/<code>/drafts")
@login_required
def export(code):
    """Write the agenda as the next numbered draft and download it."""
    workshop = _workshop(code)
    try:
        draft = agenda.export_draft(get_db(), workshop)
    except Invalid as error:
        return step_page(get_db(), workshop, "review", facilitating=True, error=error)
    # Back to the review page, which now offers the new draft: a second click never
    # makes another draft under the old number.
    flash(gettext("Draft %(version)d is ready to download.", version=draft["version"]), "ok")
    return redirect(url_for(".workshop", code=code, step="review") + "#drafts-heading", 303)


@bp.get("/workshops/<code>/drafts/<int:version>.docx")
@login_required
def draft(code, version):
    """Download a draft again."""
    workshop = _workshop(code)
    found = agenda.draft(get_db(), workshop, version)
    audit.record(get_db(), workshop["id"], "exported", f"docx · v{version}", format="docx", version=version)
    return Response(
        found["docx"],
        mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={"Content-Disposition":
                 f'attachment; filename="{agenda.file_name(workshop, version)}"'},
    )


@bp.get("/workshops/<code>/participants")
@login_required
def participants(code):
    """Who joined, by stakeholder group."""
    workshop = _workshop(code)
    db = get_db()
    return render("facilitator/participants.html", workshop=workshop,
                  people=participant.in_room(db, workshop), form={},
                  counts=participant.count_by_group(db, workshop), connected=steps.connected(db, workshop))


def _team_page(workshop, status=200, **context):
    db = get_db()
    return render("facilitator/team.html", status=status, workshop=workshop,
                  team=cofacilitator.team(db, workshop), open_invitations=cofacilitator.invitations(db, workshop),
                  is_owner=workshop["facilitator_id"] == g.facilitator["id"],
                  invitation_days=cofacilitator.INVITATION_DAYS, **{"form": {}, **context})


@bp.get("/workshops/<code>/team")
@login_required
def team(code):
    """Who runs the workshop, and inviting a co-facilitator."""
    return _team_page(_workshop(code))


@bp.post("/workshops/<code>/team")
@login_required
def invite(code):
    """Add a colleague with an account, or make an invitation link for one without."""
    workshop = _owners_workshop(code)
    try:
        token = cofacilitator.invite(get_db(), workshop, request.form.get("email"), g.facilitator)
    except Invalid as error:
        return invalid(error, "facilitator/team.html", workshop=workshop, is_owner=True,
                       team=cofacilitator.team(get_db(), workshop),
                       open_invitations=cofacilitator.invitations(get_db(), workshop),
                       invitation_days=cofacilitator.INVITATION_DAYS)
    if token is None:
        flash(gettext("%(email)s can now run this workshop too.", email=request.form.get("email", "").strip()), "ok")
        return redirect(url_for(".team", code=code), 303)
    # The link is shown once: only its hash is kept.
    return _team_page(workshop, invitation_link=public_url_for("auth.invitation", token=token),
                      invited=request.form.get("email", "").strip())


@bp.post("/workshops/<code>/team/<int:facilitator_id>/remove")
@login_required
def remove_from_team(code, facilitator_id):
    """Stop a co-facilitator running the workshop."""
    workshop = _owners_workshop(code)
    cofacilitator.remove(get_db(), workshop, facilitator_id)
    flash(gettext("The co-facilitator no longer runs this workshop."), "ok")
    return redirect(url_for(".team", code=code), 303)


@bp.post("/workshops/<code>/joining")
@login_required
def joining(code):
    """Close joining to newcomers, or open it again."""
    workshop = _workshop(code)
    closing = request.form.get("closed") == "1"
    workshops.set_joining_closed(get_db(), workshop, closing)
    flash(gettext("Joining is closed: nobody new can join; those who joined can continue.")
          if closing else gettext("Joining is open again."), "ok")
    return redirect(url_for(".participants", code=code), 303)


@bp.route("/workshops/<code>/participants/<int:participant_id>/remove", methods=["GET", "POST"])
@login_required
def remove_participant(code, participant_id):
    """Remove a participant after a confirmation that says what goes with them."""
    workshop = _workshop(code)
    db = get_db()
    person = participant.get(db, workshop, participant_id)
    if request.method == "POST":
        participant.remove(db, workshop, participant_id)
        flash(gettext("%(who)s was removed from the workshop.", who=participant.label(workshop, person)), "ok")
        return redirect(url_for(".participants", code=code), 303)
    return render("facilitator/remove_participant.html", workshop=workshop, person=person,
                  who=participant.label(workshop, person))


@bp.get("/workshops/<code>/audit")
@login_required
def audit_log(code):
    """Who did what in the workshop and when, newest first, a page at a time."""
    workshop = _workshop(code)
    before = request.args.get("before", type=int)
    entries = audit.entries(get_db(), workshop, before=before if before and 0 < before < 2**63 else None,
                            limit=AUDIT_PAGE + 1)
    return render("facilitator/audit.html", workshop=workshop, entries=entries[:AUDIT_PAGE],
                  older=entries[AUDIT_PAGE - 1]["id"] if len(entries) > AUDIT_PAGE else None,
                  events=audit.EVENTS)


AUDIT_PAGE = 200


def _owners_workshop(code) -> dict:
    """The workshop, for its owner only: co-facilitators run it but never invite, delete or anonymise."""
    workshop = workshops.owned_by(get_db(), code, g.facilitator["id"])
    g.workshop = workshop
    return workshop


def _code_typed(workshop, field) -> bool:
    return workshops.normalise_code(request.form.get(field)) == workshop["code"]


def _code_mistyped(workshop, field):
    """The details page again, saying the code did not match and nothing was changed."""
    message = gettext("That is not this workshop's join code (%(code)s). Nothing was changed.", code=workshop["code"])
    return render("facilitator/workshop_form.html", status=422, form=workshop, editing=workshop,
                  error=message, error_field=field)


@bp.post("/workshops/<code>/anonymise")
@login_required
def anonymise(code):
    """Remove the participants' names and personal codes, once the facilitator typed the join code."""
    workshop = _owners_workshop(code)
    if not _code_typed(workshop, "anonymise_code"):
        return _code_mistyped(workshop, "anonymise_code")
    done = privacy.anonymise(get_db(), workshop)
    flash(gettext("The participants are anonymised: their names and personal codes are removed, and the "
                  "workshop names organisations only."), "ok")
    if done["drafts_withdrawn"]:
        flash(ngettext("%(num)d earlier Word draft named people and can no longer be downloaded.",
                       "%(num)d earlier Word drafts named people and can no longer be downloaded.",
                       done["drafts_withdrawn"]), "ok")
    return redirect(url_for(".edit_workshop", code=code) + "#data-care", 303)


@bp.post("/workshops/<code>/delete")
@login_required
def delete_workshop(code):
    """Delete the workshop and everything in it, once the facilitator typed the join code."""
    workshop = _owners_workshop(code)
    if not _code_typed(workshop, "delete_code"):
        return _code_mistyped(workshop, "delete_code")
    privacy.delete_workshop(get_db(), workshop)
    flash(gettext("The workshop “%(title)s” and everything in it were deleted.", title=workshop["title"]), "ok")
    return redirect(url_for(".dashboard"), 303)
