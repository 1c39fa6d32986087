"""Facilitator sign-in: the first-run setup link, log in and log out."""
import functools

from flask import Blueprint, g, redirect, request, session, url_for
from flask_babel import gettext

from toolkit import facilitator as facilitators
from toolkit.validation import Invalid
from toolkit.web import get_db, htmx, invalid, render
from toolkit.web.expired import expired

bp = Blueprint("auth", __name__)


def login_required(view):
    """Let only a signed-in facilitator through; everyone else goes to the login page."""

    @functools.wraps(view)
    def wrapped(**kwargs):
        account = facilitators.get(get_db(), session.get("facilitator_id"))
        if account is None:
            if request.method == "POST" or htmx:
                # Redirecting would throw away what was typed, and a poll would take the page away.
                return expired(gettext("Your login has ended. Please log in again in another tab, "
                                       "then send this again; what you typed is still here."), 401, log_in=True)
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        g.facilitator = account
        return view(**kwargs)

    return wrapped


@bp.route("/setup/<token>", methods=["GET", "POST"])
def setup(token):
    """Create the first facilitator account through the one-time link that serve prints."""
    db = get_db()
    if not facilitators.setup_token_valid(db, token):
        return render("auth/setup_used.html", status=404)
    if request.method == "POST":
        try:
            account = facilitators.create(
                db, request.form.get("email"), request.form.get("name"), request.form.get("password")
            )
        except Invalid as error:
            return invalid(error, "auth/setup.html", token=token, min_password=facilitators.MIN_PASSWORD)
        session.clear()
        session["facilitator_id"] = account["id"]
        return redirect(url_for("facilitator.dashboard"), 303)
    return render("auth/setup.html", token=token, form={}, min_password=facilitators.MIN_PASSWORD)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log a facilitator in."""
    if request.method == "POST":
        account = facilitators.authenticate(
            get_db(), request.form.get("email"), request.form.get("password")
        )
        if account is None:
            return render(
                "auth/login.html", status=401, form={"email": request.form.get("email", "")},
                error=gettext("That e-mail address and password do not match an account."),
            )
        lang = session.get("lang")
        session.clear()  # a fresh session after login
        if lang:
            session["lang"] = lang
        session["facilitator_id"] = account["id"]
        session.permanent = True
        target = request.args.get("next", "")
        if not target.startswith("/") or target.startswith("//"):
            target = url_for("facilitator.dashboard")
        return redirect(target, 303)
    return render("auth/login.html", form={}, first_run=not facilitators.any_exist(get_db()))


@bp.post("/logout")
def logout():
    """Log the facilitator out."""
    session.pop("facilitator_id", None)
    return redirect(url_for("auth.login"), 303)
