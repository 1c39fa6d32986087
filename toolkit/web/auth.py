"""Facilitator sign-in: the first-run setup link, log in and log out."""
import functools

from flask import Blueprint, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext

from toolkit import audit, cofacilitator
from toolkit import facilitator as facilitators
from toolkit.validation import Invalid, NotFound
from toolkit.web import get_db, htmx, invalid, local_path, render
from toolkit.web.expired import expired

bp = Blueprint("auth", __name__)


def login_required(view):
    """Let only a signed-in facilitator through; everyone else goes to the login page."""

    @functools.wraps(view)
    def wrapped(**kwargs):
        account = facilitators.logged_in(get_db(), session.get("login"))
        if account is None:
            if request.method == "POST" or htmx:
                # Redirecting would throw away what was typed, and a poll would take the page away.
                return expired(gettext("Your login has ended. Please log in again in another tab, "
                                       "then send this again; what you typed is still here."), 401, log_in=True)
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        g.facilitator = account
        audit.act_as("facilitator", account["id"], account["name"])
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
        _log_in(account)
        return redirect(url_for("facilitator.dashboard"), 303)
    return render("auth/setup.html", token=token, form={}, min_password=facilitators.MIN_PASSWORD)


@bp.route("/invite/<token>", methods=["GET", "POST"])
def invitation(token):
    """Accept an invitation to co-facilitate: as the account logged in here, or with a new account."""
    db = get_db()
    try:
        found = cofacilitator.invitation(db, token)
    except NotFound:
        return render("auth/invitation_used.html", status=404)
    account = facilitators.logged_in(db, session.get("login"))
    if request.method == "POST":
        if account is None:
            try:
                account = facilitators.create(db, found["email"], request.form.get("name"),
                                              request.form.get("password"))
            except Invalid as error:
                return invalid(error, "auth/invitation.html", invitation=found, account=None,
                               min_password=facilitators.MIN_PASSWORD)
            _log_in(account)
        audit.act_as("facilitator", account["id"], account["name"])
        try:
            workshop = cofacilitator.accept(db, token, account)
        except Invalid as error:
            return invalid(error, "auth/invitation.html", status=403, invitation=found, account=account,
                           min_password=facilitators.MIN_PASSWORD)
        flash(gettext("You now run this workshop too."), "ok")
        return redirect(url_for("facilitator.workshop", code=workshop["code"]), 303)
    has_account = account is None and facilitators.by_email(db, found["email"]) is not None
    return render("auth/invitation.html", invitation=found, account=account, form={},
                  has_account=has_account, min_password=facilitators.MIN_PASSWORD)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log a facilitator in."""
    if request.method == "POST":
        form = {"email": str(request.form.get("email", ""))[:254]}
        try:
            account = facilitators.authenticate(
                get_db(), request.form.get("email"), request.form.get("password"),
                client=request.remote_addr or "", secret=current_app.secret_key,
            )
        except facilitators.Throttled as wait:
            response = render(
                "auth/login.html", status=429, form=form,
                error=gettext("Too many failed attempts. Please wait %(minutes)d minutes and try again.",
                              minutes=max(1, -(-wait.seconds // 60))),
            )
            response.headers["Retry-After"] = str(wait.seconds)
            return response
        if account is None:
            return render(
                "auth/login.html", status=401, form=form,
                error=gettext("That e-mail address and password do not match an account."),
            )
        _log_in(account)
        return redirect(local_path(request.args.get("next")) or url_for("facilitator.dashboard"), 303)
    return render("auth/login.html", form={}, first_run=not facilitators.any_exist(get_db()))


@bp.post("/logout")
def logout():
    """Log the facilitator out; the login ends on the server too, so a copied cookie is worth nothing."""
    facilitators.end_login(get_db(), session.pop("login", None))
    return redirect(url_for("auth.login"), 303)


def _log_in(account: dict) -> None:
    """A fresh session for a new login: nothing from before it carries over but the language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session["login"] = facilitators.start_login(get_db(), account)
    session.permanent = True
