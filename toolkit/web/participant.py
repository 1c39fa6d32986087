"""The participant's pages: joining with a code or link, and taking part in the current step."""
import hmac

from flask import Blueprint, flash, g, make_response, redirect, request, session, url_for
from flask_babel import gettext

from toolkit import action as actions
from toolkit import audit, throttle
from toolkit import facilitator as facilitators
from toolkit import comment
from toolkit import participant as participants
from toolkit import step as steps
from toolkit import vote
from toolkit import workshop as workshops
from toolkit.i18n import N_
from toolkit.validation import Invalid, NotFound
from toolkit.web import (agenda_pages, become, chosen_language, error_fragment, get_db, htmx, invalid, language,
                         poll_shortcut, render, too_many)
from toolkit.web.views import items_added, room, shared_update, step_page, voted

bp = Blueprint("participant", __name__)


def _workshop(code) -> dict:
    """The workshop of this code; counts a wrong code against the client, which may have to wait."""
    db = get_db()
    try:
        workshop = workshops.by_code(db, code)
    except NotFound:
        workshop = None
    if workshop is not None and _identity(workshop) is not None:
        g.workshop = workshop
        return workshop
    # Checked before answering, so a client that must wait learns nothing about the code it tried.
    key = too_many("join-client", participants.JOIN_FAILURES_PER_CLIENT, participants.JOIN_WINDOW)
    if workshop is None:
        throttle.count(db, key)
        raise NotFound(code)
    g.workshop = workshop
    return workshop


def _identity(workshop) -> list | None:
    identities = session.get("participants")
    found = identities.get(str(workshop["id"])) if isinstance(identities, dict) else None
    return found if isinstance(found, (list, int)) else None


def _me(workshop) -> dict | None:
    """The participant this browser joined this workshop as, if any and if still in the workshop."""
    # One identity per workshop, each bound to the workshop it was made in.
    identity = _identity(workshop)
    if identity is None:
        return None
    participant_id, key = (identity, None) if isinstance(identity, int) else (identity + [None, None])[:2]
    try:
        me = participants.get(get_db(), workshop, participant_id)
    except NotFound:
        return None
    if me["session_key"] is None and key is None:
        become(workshop, me)  # a browser from before session keys: bind it now
    elif not (isinstance(key, str) and me["session_key"] and hmac.compare_digest(me["session_key"], key)):
        return None
    if me["on_behalf"]:
        # Someone without a device is only ever acted for by a facilitator who runs the workshop
        # now: logging out or being removed from the workshop ends it.
        account = facilitators.logged_in(get_db(), session.get("login"))
        if account is None or not workshops.runs(get_db(), workshop, account["id"]):
            return None
        audit.act_as("facilitator", account["id"], f"{account['name']} → {participants.label(workshop, me)}")
        return me
    audit.act_as("participant", me["id"], participants.label(workshop, me))
    return me


def _wrong_personal_code() -> None:
    throttle.count(get_db(), too_many("join-client", participants.JOIN_FAILURES_PER_CLIENT,
                                     participants.JOIN_WINDOW))


@bp.get("/")
def home():
    """The start page: join a workshop with its code."""
    return render("participant/home.html", form={})


@bp.post("/join")
def join_with_code():
    """Go from a typed code to that workshop's join page."""
    code = workshops.normalise_code(request.form.get("code"))
    try:
        _workshop(code)
    except NotFound:
        return render("participant/home.html", status=404, form={"code": request.form.get("code", "")[:20]},
                      error=gettext("There is no workshop with this code. Please check it with the facilitator."),
                      error_field="code")
    return redirect(url_for(".join", code=code), 303)


@bp.route("/j/<code>", methods=["GET", "POST"])
def join(code):
    """Join a workshop: name (unless anonymous), organisation and stakeholder group."""
    workshop = _workshop(code)
    if _me(workshop) is not None:
        return redirect(url_for(".current_step", code=workshop["code"]), 303)
    if request.method == "POST":
        try:
            key = too_many("joins", participants.JOINS_PER_CLIENT, participants.JOIN_WINDOW)
            joined = participants.join(get_db(), workshop, request.form)
            throttle.count(get_db(), key)  # successes count here: a flood of joins is throttled too
        except Invalid as error:
            return invalid(error, "participant/join.html", workshop=workshop)
        become(workshop, joined)
        flash(gettext("Welcome! You have joined the workshop."), "ok")
        return redirect(url_for(".current_step", code=workshop["code"]), 303)
    return render("participant/join.html", workshop=workshop, form={})


def _joined(code, required=False):
    """The workshop and this browser's participant in it; None, or NotFound if required, when not joined."""
    workshop = _workshop(code)
    me = _me(workshop)
    if me is None and required:
        raise NotFound(code)
    return workshop, me


@bp.get("/w/<code>")
def current_step(code):
    """The step the facilitator has the room on."""
    workshop, me = _joined(code)
    if me is None:
        return redirect(url_for(".join", code=workshop["code"]), 303)
    return step_page(get_db(), workshop, workshop["step"], me=me)


@bp.post("/w/<code>/items/<int:item_id>/dots")
def set_dots(code, item_id):
    """Put a number of one's dots on an item."""
    workshop, me = _joined(code, required=True)
    db = get_db()
    try:
        result = vote.set_dots(db, workshop, me["id"], item_id, request.form.get("dots"))
    except Invalid as error:
        return step_page(db, workshop, workshop["step"], me=me, error=error)
    if htmx:
        return voted(db, workshop, me, result)
    return redirect(url_for(".current_step", code=workshop["code"]) + f"#item-{item_id}", 303)


@bp.get("/w/<code>/live")
def live(code):
    """What changed since the page's revision: nothing (204), or the page's changing parts."""
    workshop, me = _joined(code)
    if me is None:
        if _identity(workshop) is not None:
            # This browser was someone here who was removed: the page goes to the join page.
            response = make_response("", 200)
            response.headers["HX-Redirect"] = url_for(".join", code=workshop["code"])
            return response
        # This browser's session is gone: the page says so, and keeps whatever is typed in it.
        return error_fragment(gettext("This page has expired. Please reload it and try again; "
                                      "nothing you entered before was lost."), 401)
    db = get_db()
    # The poll shortcut in front writes presence every CONNECTED_SECONDS / 3 for each page it
    # knows (toolkit/web/poll_shortcut.py), so Flask writes only for a page it has not known a while.
    in_front = request.environ.get(poll_shortcut.IN_FRONT)
    steps.mark_seen(db, me, every=steps.CONNECTED_SECONDS / (2 if in_front else 3))
    if request.args.get("rev") == str(workshop["revision"]):
        return _may_repeat(make_response("", 204), workshop, me)
    return _may_repeat(_what_changed(db, workshop, me), workshop, me)


def _what_changed(db, workshop, me):
    """The update for a page behind the room: the move to another step, the room's shared update, or its own."""
    page_step = request.args.get("step")
    if page_step != workshop["step"]:
        # The page reloads itself (static/toolkit.js) unless someone is halfway through
        # typing; then this banner lets them go when they are ready.
        response = render("participant/_room_moved.html", workshop=workshop, step=page_step,
                          facilitating=False)
        response.headers["HX-Trigger"] = "room-moved"
        return response
    if workshop["step"] in workshops.STEP_KINDS:
        shape = request.args.get("shape", "")
        shared = shared_update(db, workshop, workshop["step"], shape)
        if shared is not None:
            response = make_response(shared)
            response.vary.add("HX-Request")
            if request.environ.get(poll_shortcut.IN_FRONT):
                # Which update these bytes are, for the shortcut to give to the rest of the room.
                response.headers[poll_shortcut.SHARED.decode()] = (
                    f"{workshop['revision']} {workshop['step']} {shape} {language()}")
            return response
        # Someone added an item: the page gets that item, not its whole voting area again.
        added = items_added(db, workshop, workshop["step"], shape, request.args.get("upto", ""))
        if added is not None:
            return step_page(db, workshop, workshop["step"], me=me, fragment="participant/_live_added.html",
                             added=added, shared=room(db, workshop, workshop["step"]).update())
    return step_page(db, workshop, workshop["step"], me=me, fragment="participant/_live.html")


def _may_repeat(response, workshop, me):
    """response, with leave for the poll shortcut in front (if any) to answer this page's next polls.

    The leave names who this browser is, whatever the answer was: a page whose update was its own
    (new items, the room moved on) still hears "nothing changed" from the shortcut afterwards.
    """
    # Someone acted for by a facilitator depends on that facilitator's login too: always asked anew.
    if request.environ.get(poll_shortcut.IN_FRONT) and me["session_key"] and not me["on_behalf"]:
        # Without a choice of their own, a participant reads the workshop's language, which may change.
        response.headers[poll_shortcut.GRANT.decode()] = (
            f"{workshop['id']} {me['id']} {me['session_key']} {chosen_language() or poll_shortcut.WORKSHOPS}")
    return response


@bp.post("/w/<code>/done")
def set_done(code):
    """Say one has finished the current step, or take that back."""
    workshop, me = _joined(code, required=True)
    db = get_db()
    steps.set_done(db, workshop, me["id"], workshop["step"], request.form.get("done") == "1")
    if htmx:
        return step_page(db, workshop, workshop["step"], me=me, fragment="shared/_step_status.html")
    return redirect(url_for(".current_step", code=workshop["code"]), 303)


@bp.get("/r/<code>/<rejoin>")
def rejoin_link(code, rejoin):
    """Continue as oneself on another device, from one's personal link."""
    workshop = _workshop(code)
    try:
        found = participants.rejoin(get_db(), workshop, rejoin)
    except NotFound:
        _wrong_personal_code()
        raise
    become(workshop, found)
    flash(gettext("Welcome back! You continue where you left off."), "ok")
    return redirect(url_for(".current_step", code=workshop["code"]), 303)


@bp.post("/j/<code>/rejoin")
def rejoin_with_code(code):
    """Continue as oneself on another device, with one's personal code."""
    workshop = _workshop(code)
    try:
        found = participants.rejoin(get_db(), workshop, request.form.get("rejoin_code"))
    except NotFound:
        _wrong_personal_code()
        return render("participant/join.html", status=404, workshop=workshop,
                      form={"rejoin_code": request.form.get("rejoin_code", "")[:20]},
                      error=gettext("This personal code is not known in this workshop."),
                      error_field="rejoin_code")
    become(workshop, found)
    flash(gettext("Welcome back! You continue where you left off."), "ok")
    return redirect(url_for(".current_step", code=workshop["code"]), 303)


@bp.post("/w/<code>/items")
def add_item(code):
    """Add an item of one's own to the current step."""
    workshop, me = _joined(code, required=True)
    kinds = workshops.STEP_KINDS.get(workshop["step"])
    db = get_db()
    if not kinds:
        error = Invalid(N_("Adding items is not open now."))
        return step_page(db, workshop, workshop["step"], me=me, error=error)
    try:
        added = workshops.add_item(db, workshop, request.form, kinds, participant_id=me["id"])
    except Invalid as error:
        return step_page(db, workshop, workshop["step"], me=me, error=error)
    flash(gettext("“%(title)s” was added.", title=added["title"]), "ok")
    return redirect(url_for(".current_step", code=workshop["code"]), 303)


@bp.post("/w/<code>/items/<int:item_id>/comments")
def add_comment(code, item_id):
    """Comment on an item of the current step."""
    workshop, me = _joined(code, required=True)
    db = get_db()
    try:
        comment.add(db, workshop, item_id, request.form, participant_id=me["id"])
    except Invalid as error:
        return step_page(db, workshop, workshop["step"], me=me, error=error)
    if htmx:
        return step_page(db, workshop, workshop["step"], me=me, fragment="participant/_vote_area.html",
                         announcement=gettext("Your comment was added."))
    flash(gettext("Your comment was added."), "ok")
    return redirect(url_for(".current_step", code=workshop["code"]) + f"#item-{item_id}", 303)


@bp.post("/w/<code>/actions")
def propose_action(code):
    """Propose an action for an adopted recommendation."""
    workshop, me = _joined(code, required=True)
    db = get_db()
    try:
        proposed = actions.propose(db, workshop, request.form, participant_id=me["id"])
    except Invalid as error:
        return step_page(db, workshop, workshop["step"], me=me, error=error)
    flash(gettext("The action “%(what)s” was added.", what=proposed["what"]), "ok")
    return redirect(url_for(".current_step", code=workshop["code"]) + f"#action-{proposed['id']}", 303)


@bp.route("/w/<code>/actions/<int:action_id>/edit", methods=["GET", "POST"])
def edit_action(code, action_id):
    """Edit an action together with the room; a collision shows both versions."""
    workshop, me = _joined(code, required=True)
    return agenda_pages.action_page(get_db(), workshop, action_id, me=me)


@bp.get("/w/<code>/actions/<int:action_id>/history")
def action_history(code, action_id):
    """Who changed this action, what and when."""
    workshop, me = _joined(code, required=True)
    db = get_db()
    found = actions.get(db, workshop, action_id)
    return agenda_pages.history_page(db, workshop, actions.subject(found), me=me,
                                     heading=found["what"])


@bp.post("/w/<code>/actions/<int:action_id>/volunteer")
def volunteer(code, action_id):
    """Offer one's organisation as lead or partner of an action, or withdraw the offer."""
    workshop, me = _joined(code, required=True)
    db = get_db()
    try:
        actions.volunteer(db, workshop, action_id, me["id"], request.form.get("role"))
    except Invalid as error:
        return step_page(db, workshop, workshop["step"], me=me, error=error)
    role = request.form.get("role")
    message = {
        "lead": gettext("%(organisation)s is offered as lead.", organisation=me["organisation"]),
        "partner": gettext("%(organisation)s is offered as partner.", organisation=me["organisation"]),
    }.get(role, gettext("Your offer is withdrawn."))
    flash(message, "ok")
    return redirect(url_for(".current_step", code=workshop["code"]) + f"#action-{action_id}", 303)


@bp.post("/w/<code>/actions/<int:action_id>/rating")
def rate_action(code, action_id):
    """Rate an action's impact and effort."""
    workshop, me = _joined(code, required=True)
    db = get_db()
    try:
        rated = actions.rate(db, workshop, action_id, me["id"], request.form)
    except Invalid as error:
        return step_page(db, workshop, workshop["step"], me=me, error=error)
    message = gettext("Your rating is saved: impact %(impact)d, effort %(effort)d.", **rated)
    if htmx:
        return render("_message.html", message=message, kind="ok")
    flash(message, "ok")
    return redirect(url_for(".current_step", code=workshop["code"]) + f"#action-{action_id}", 303)


@bp.route("/w/<code>/texts/<key>", methods=["GET", "POST"])
def edit_text(code, key):
    """Write one of the agenda's own texts together."""
    workshop, me = _joined(code, required=True)
    return agenda_pages.text_page(get_db(), workshop, key, me=me)


@bp.get("/w/<code>/history")
def history(code):
    """Every change to the agenda's actions and texts."""
    workshop, me = _joined(code, required=True)
    return agenda_pages.history_page(get_db(), workshop, me=me)
