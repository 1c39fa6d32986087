"""The facilitator's other exports (Markdown, CSV, JSON) and importing a workshop from JSON."""

from flask import Blueprint, Response, flash, g, redirect, request, url_for
from flask_babel import gettext
from werkzeug.exceptions import RequestEntityTooLarge

from toolkit import agenda, audit, exports, limits, transfer
from toolkit import workshop as workshops
from toolkit.i18n import N_
from toolkit.validation import Invalid
from toolkit.web import csrf, get_db, invalid, render
from toolkit.web.auth import login_required

bp = Blueprint("exports", __name__, url_prefix="/facilitator")


def _workshop(code) -> dict:
    """The signed-in facilitator's workshop; another's answers 404 exactly like a missing one."""
    workshop = workshops.owned(get_db(), code, g.facilitator["id"])
    g.workshop = workshop
    return workshop


def _download(body: str, content_type: str, name: str, workshop: dict | None = None) -> Response:
    # Logged after the body is made, so a workshop file never holds its own export.
    if workshop is not None:
        audit.record(get_db(), workshop["id"], "exported", name.rsplit(".", 1)[-1], file=name)
    # name is built from the join code alone, so it needs no quoting beyond the quotes.
    # "replace": a stray lone surrogate in old data must not turn a download into an error.
    return Response(body.encode("utf-8", "replace"), content_type=content_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/workshops/<code>/agenda.md")
@login_required
def agenda_markdown(code):
    """The agenda as it stands now, with what changed since the latest draft, as Markdown."""
    workshop = _workshop(code)
    return _download(exports.markdown(agenda.upcoming(get_db(), workshop)), "text/markdown; charset=utf-8", f"agenda-{workshop['code']}.md", workshop)


@bp.get("/workshops/<code>/votes.csv")
@login_required
def votes_csv(code):
    """The votes per item and stakeholder group, as CSV for a spreadsheet."""
    workshop = _workshop(code)
    return _download(exports.votes_csv(get_db(), workshop), "text/csv; charset=utf-8",
                     f"votes-{workshop['code']}.csv", workshop)


@bp.get("/workshops/<code>/actions.csv")
@login_required
def actions_csv(code):
    """The actions with every field, as CSV for a spreadsheet."""
    workshop = _workshop(code)
    return _download(exports.actions_csv(get_db(), workshop), "text/csv; charset=utf-8",
                     f"actions-{workshop['code']}.csv", workshop)


@bp.get("/workshops/<code>/workshop.json")
@login_required
def workshop_json(code):
    """The whole workshop as JSON, to import on another installation or as a template."""
    workshop = _workshop(code)
    return _download(transfer.dumps(get_db(), workshop), "application/json",
                     transfer.file_name(workshop), workshop)


def _page(status=200, **context):
    return render("facilitator/import.html", status=status, max_mb=transfer.MAX_FILE // (1024 * 1024),
                  **context)


@bp.route("/import", methods=["GET", "POST"])
@csrf.exempt  # checked in the view, once this request may be larger than a form
@login_required
def import_page():
    """Import a workshop from a JSON file, whole or only its setup; it gets a new join code."""
    if request.method == "GET":
        return _page(form={})
    # The app caps every request at limits.REQUEST_BYTES, which suits forms; a workshop file
    # with its drafts is larger. Flask lets one request raise its own cap, if nothing has read
    # the body yet: so this view is exempt from the app-wide CSRF check (which reads the form
    # first) and runs that check itself right after.
    request.max_content_length = transfer.MAX_FILE + limits.IMPORT_FORM_BYTES
    try:
        csrf.protect()
        upload = request.files.get("file")
        raw = upload.read(transfer.MAX_FILE + 1) if upload else b""
        if not raw:
            raise Invalid(N_("Please choose a workshop file to import."), "file")
        data = transfer.parse(raw)
        created = transfer.import_workshop(get_db(), g.facilitator["id"], data,
                                           structure_only=request.form.get("structure_only") == "1")
    except RequestEntityTooLarge:
        message = gettext("The file is larger than %(size)d MB, too large to import.",
                          size=transfer.MAX_FILE // (1024 * 1024))
        return _page(status=413, error=message, error_field="file", form={})
    except Invalid as error:
        return invalid(error, "facilitator/import.html", max_mb=transfer.MAX_FILE // (1024 * 1024))
    flash(gettext("The workshop “%(title)s” was imported. Participants join it with the new code %(code)s.",
                  title=created["title"], code=created["code"]), "ok")
    return redirect(url_for("facilitator.workshop", code=created["code"]), 303)
