"""A page that expired, or a login that ended, while someone was filling in a form: what they typed comes back."""
from urllib.parse import urlsplit

from flask import make_response, render_template, request, url_for
from flask_babel import gettext
from werkzeug.exceptions import RequestEntityTooLarge

from toolkit.i18n import N_
from toolkit.web import error_fragment, htmx, local_path
from toolkit.web.agenda_pages import FIELD_LABELS

# Never shown again: tokens mean nothing to a person, and a password must not sit on a page.
SKIPPED = ("csrf_token", "request_token", "version", "next")
# How fields are named on the page they came from; an unknown field shows its own name.
LABELS = {
    **FIELD_LABELS,
    "title": N_("Title"), "explanation": N_("Explanation (optional)"), "name": N_("Name"),
    "organisation": N_("Organisation"), "region": N_("Region"), "sector": N_("Sector"),
    "date": N_("Date"), "email": N_("E-mail address"),
    "impact": N_("Impact"), "effort": N_("Effort"), "code": N_("Workshop code"),
    "stakeholder_group": N_("Stakeholder group"),
}


def typed() -> list[tuple[str, str]]:
    """What the person sent, as (label, text) pairs: every filled-in field but tokens and passwords."""
    try:
        request.form
    except RequestEntityTooLarge:
        return []  # a workshop file sent without a login: not read at all, nothing to give back
    return [(gettext(LABELS[name]) if name in LABELS else name, value)
            for name, value in request.form.items(multi=True)
            if name not in SKIPPED and "password" not in name.lower() and value.strip()]


def came_from() -> str | None:
    """The page the form was on, if it is one of ours: path and query only, never another site."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host or referrer.scheme not in ("http", "https"):
        return None
    return local_path(referrer.path + (f"?{referrer.query}" if referrer.query else ""))


def expired(message: str, status: int, log_in: bool = False):
    """message with what was typed: in #messages for htmx (the form keeps its text), else a page."""
    if htmx:
        return error_fragment(message, status)
    page = render_template("expired.html", message=message, status=status, typed=typed(),
                           back=came_from(), log_in=url_for("auth.login") if log_in else None)
    return make_response(page, status)
