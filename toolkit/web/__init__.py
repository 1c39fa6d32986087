"""The web edge: request-scoped database, language, CSRF, htmx and error pages."""
import re
import secrets
import sqlite3
import threading
from functools import lru_cache
from datetime import datetime
from urllib.parse import urlsplit
from io import BytesIO

from flask import Flask, current_app, g, make_response, redirect, render_template, request, session, url_for
from babel.dates import format_datetime
from flask_babel import Babel, Domain, get_locale, gettext
from flask_compress import Compress
from flask_htmx import HTMX
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from werkzeug.exceptions import HTTPException
from werkzeug.wsgi import get_content_length

from toolkit import audit, limits, throttle
from toolkit import db as database
from toolkit import participant as participants
from toolkit.catalogue import KINDS
from toolkit.consensus import VERDICTS
from toolkit.step import METHODS
from toolkit.i18n import DEFAULT_LANGUAGE, LANGUAGES, translations
from toolkit.participant import GROUP_LABELS, GROUPS
from toolkit.validation import Invalid, NotFound
from toolkit.workshop import STEP_LABELS, STEPS, spaced_code

class SharedCatalogue(Domain):
    """Flask-Babel reading the same in-memory catalogues as the document builder."""

    def get_translations(self):
        return translations(str(get_locale()))


def _catalogue():
    """This request's translations, found once: a page asks for dozens of strings, and Flask-Babel
    looks the language and catalogue up again for every one of them."""
    found = g.get("_catalogue")
    if found is None:
        found = g._catalogue = translations(str(get_locale()))
    return found


htmx = HTMX()
csrf = CSRFProtect()
compress = Compress()
babel = Babel()


# One connection per server thread, kept between requests: opening one and setting its pragmas
# cost more than the rest of an idle poll (benchmarks/load.py).
_thread = threading.local()


# Requests that mostly wait without the interpreter: an export, for the drawing process. The
# server runs them beside the others (serving.wsgi_to_asgi). Not a login: its password hash
# (Argon2) waits for no one but works a core, and 4 at once beside the room's requests made a
# room of 3,000 people arriving take longer to settle (benchmarks/load.py).
WAITING = re.compile(r"/facilitator/workshops/[^/]+/drafts\Z")


def waits_long(scope) -> bool:
    """Whether this ASGI request is one that mostly waits: a form sent to a WAITING address."""
    return scope["method"] == "POST" and WAITING.search(scope["path"]) is not None


def draws_page(scope) -> bool:
    """Whether this ASGI request asks for a whole page or sends a whole form, not a part of a page already shown (htmx)."""
    return not any(name == b"hx-request" for name, _value in scope["headers"])


def get_db():
    """This thread's connection to the app's database, opened on first use and kept for the next request."""
    if "db" not in g:
        path = current_app.config["DATABASE"]
        kept = getattr(_thread, "connection", None)
        if kept is None or kept[0] != path:
            if kept is not None:
                kept[1].close()
            kept = _thread.connection = (path, database.connect(path))
        g.db = kept[1]
    return g.db


def close_kept_connection() -> None:
    """Close this thread's kept connection; the next request opens a new one."""
    kept = getattr(_thread, "connection", None)
    _thread.connection = None
    if kept is not None:
        kept[1].close()


def _close_db(_exc=None):
    db = g.pop("db", None)
    if db is not None and db.conn.in_transaction:
        db.conn.rollback()  # a request that failed half-way leaves nothing open for the next


def chosen_language() -> str | None:
    """The language the user chose on the page, if any."""
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else None


def language() -> str:
    """The language of this request: the user's choice, else the workshop's, else the browser's."""
    chosen = chosen_language()
    if chosen:
        return chosen
    workshop = g.get("workshop")
    if workshop:
        return workshop["language"]
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def become(workshop: dict, participant: dict) -> None:
    """Make this browser that participant in that workshop (one identity per workshop)."""
    identities = session.get("participants")
    identities = dict(identities) if isinstance(identities, dict) else {}
    # The id with the participant's secret: a removed person's id, given to a newcomer, opens nothing.
    identities[str(workshop["id"])] = [participant["id"], participants.session_key(get_db(), participant)]
    session["participants"] = identities
    session.permanent = True  # a phone that closes its browser comes back as the same person


def client_address() -> str:
    """The client's address, as the reverse proxy passed it on when TOOLKIT_PROXIES says there is one."""
    return request.remote_addr or ""


def too_many(kind: str, limit: int, window: int) -> str:
    """The throttle key of this client for kind; raises TooMany when it already failed limit times."""
    key = throttle.key(kind, client_address(), current_app.secret_key)
    seconds = throttle.wait(get_db(), key, limit, window)
    if seconds:
        raise throttle.TooMany(seconds)
    return key


def request_token() -> str:
    """The token a form carries so that sending it twice adds once; kept when a form is re-shown."""
    sent = request.form.get("request_token", "")
    if 0 < len(sent) <= 64:
        return sent
    # One random draw per page, numbered per form: a page with forms for thirty items would
    # otherwise ask the operating system for randomness thirty times.
    if "form_tokens" not in g:
        g.form_tokens = [secrets.token_urlsafe(16), 0]
    g.form_tokens[1] += 1
    return f"{g.form_tokens[0]}.{g.form_tokens[1]}"


def csrf_token_once() -> str:
    """This request's CSRF token, as Flask-WTF's csrf_token() gives it, looked up once: that one reads
    its settings again at each of the dozens of forms on a page of items."""
    token = g.get("_csrf_token_once")
    if token is None:
        token = g._csrf_token_once = _token_checked() or generate_csrf()
    return token


def _token_checked() -> str | None:
    """The CSRF token this request was let in with, good for the answer's forms as long as tokens do not age."""
    if not g.get("csrf_valid") or current_app.config.get("WTF_CSRF_TIME_LIMIT") is not None:
        return None
    if "csrf_token" not in session:
        return None  # the session was started anew since (a login): its forms need a token of its own
    return request.form.get("csrf_token") or request.headers.get("X-CSRFToken") or None


def item_url(endpoint: str, code: str, item_id: int) -> str:
    """url_for(endpoint, code=code, item_id=item_id), kept: every item on a page has its forms' addresses."""
    return _item_url(request.script_root, endpoint, code, item_id)


@lru_cache(maxsize=20_000)
def _item_url(_script_root: str, endpoint: str, code: str, item_id: int) -> str:
    return url_for(endpoint, code=code, item_id=item_id)


def public_url_for(endpoint: str, **values) -> str:
    """A full link to endpoint on the public address when serve knows it, else on this request's."""
    public = current_app.config.get("PUBLIC_URL")
    return public + url_for(endpoint, **values) if public else url_for(endpoint, _external=True, **values)


def join_link(code: str) -> str:
    """The link participants follow to join."""
    return public_url_for("participant.join", code=code)


def local_time(stamp: str) -> str:
    """A stored UTC timestamp in the server's local time, written the user's way."""
    moment = datetime.fromisoformat(stamp).astimezone().replace(tzinfo=None)
    return format_datetime(moment, "medium", locale=str(get_locale()))


def render(template: str, fragment: str | None = None, status: int = 200, **context):
    """The full page, or only its fragment when htmx asks (not on a history restore)."""
    use_fragment = fragment and htmx and not htmx.history_restore_request
    response = make_response(render_template(fragment if use_fragment else template, **context), status)
    response.vary.add("HX-Request")
    return response


def invalid(error: Invalid, template: str, status: int = 422, **context):
    """The form again with what was typed and the error in the user's language."""
    message = gettext(error.message, **error.params)
    if htmx:
        return error_fragment(message, status)
    return render(template, status=status, error=message, error_field=error.field,
                  form=request.form, **context)


def error_fragment(message: str, status: int):
    """An error for an htmx request, swapped into the page's message area."""
    response = make_response(render_template("_message.html", message=message, kind="error"), status)
    response.headers["HX-Retarget"] = "#messages"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


def local_path(target) -> str | None:
    """target if it is a path on this server, else None: never a way to send someone elsewhere."""
    target = str(target or "")
    # Browsers drop tabs and newlines and read a backslash as a slash: "/\t/evil" is "//evil".
    if not target.startswith("/") or "\\" in target or not target.isprintable() or " " in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return None
    return target


def back(default_endpoint: str, **values):
    """Redirect to a local next= URL, or to default_endpoint."""
    target = local_path(request.form.get("next") or request.args.get("next"))
    return redirect(target or url_for(default_endpoint, **values), 303)


# Everything the pages need comes from this server: no inline script or style, no other site,
# no framing. Browser tests run under this policy and fail on any violation.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:
        # Once reached over HTTPS (directly or through a trusted proxy), browsers keep to it.
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def _measured(wsgi_app):
    """wsgi_app, with a body sent without Content-Length (chunked) read and measured first."""

    def measured(environ, start_response):
        # Werkzeug cuts such a body off at the limit without a word, and the view would take the
        # part it got as the whole form. Read up to the largest limit any page allows, and give
        # the body its length: the usual check per page then refuses it with a 413.
        if (environ.get("REQUEST_METHOD") in ("POST", "PUT", "PATCH")
                and get_content_length(environ) is None and environ.get("wsgi.input_terminated")):
            body = environ["wsgi.input"].read(limits.LARGEST_REQUEST_BYTES + 1)
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            environ["wsgi.input"] = BytesIO(b"" if len(body) > limits.LARGEST_REQUEST_BYTES else body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return wsgi_app(environ, start_response)

    return measured


def init_web(app: Flask) -> None:
    """Wire the request-scoped pieces and the blueprints into app."""
    from toolkit.web import auth, exports, facilitator, participant, presenter, template_text

    app.wsgi_app = _measured(app.wsgi_app)
    app.teardown_appcontext(_close_db)
    # Waitress reuses threads: nobody may act under the previous request's name.
    app.before_request(audit.stop_acting)
    app.teardown_request(lambda _exc=None: audit.stop_acting())
    app.after_request(_security_headers)
    babel.init_app(app, locale_selector=language)
    babel.domain_instance = SharedCatalogue()
    app.jinja_env.install_gettext_callables(lambda string: _catalogue().gettext(string),
                                            lambda one, many, n: _catalogue().ngettext(one, many, n),
                                            newstyle=True)
    csrf.init_app(app)
    htmx.init_app(app)
    # Stylesheets and scripts only: a compressed page that holds a CSRF token next to text an
    # attacker chose could leak the token through its length (BREACH).
    app.config.setdefault("COMPRESS_MIMETYPES", ["text/css", "text/javascript", "application/javascript"])
    compress.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(facilitator.bp)
    app.register_blueprint(participant.bp)
    app.register_blueprint(presenter.bp)
    app.register_blueprint(exports.bp)

    from toolkit.web.views import own

    @lru_cache(maxsize=None)
    def globals_in(lang: str) -> dict:
        # The same for every request in lang: built once, not at each of a request's renders.
        return {
            "own": own,
            **template_text.for_language(lang),
            "lang": lang,
            "languages": LANGUAGES,
            "steps": STEPS,
            "step_labels": STEP_LABELS,
            "groups": GROUPS,
            "group_labels": GROUP_LABELS,
            "kind_labels": KINDS,
            "verdicts": VERDICTS,
            "methods": METHODS,
            "request_token": request_token,
            "csrf_token": csrf_token_once,
            "item_url": item_url,
            "join_link": join_link,
        }

    @app.context_processor
    def globals_for_templates():
        return globals_in(language())

    # Option lists for selects: (value, label shown in the user's language).
    app.add_template_filter(lambda pair: (pair[0], gettext(pair[1])), "translate_pair")
    app.add_template_filter(lambda kind: (kind, gettext(KINDS[kind])), "kind_pair")
    app.add_template_filter(lambda item: (item["id"], item["title"]), "id_title")
    app.add_template_filter(local_time, "datetime_text")
    app.add_template_filter(spaced_code, "spaced_code")

    @app.post("/language")
    def switch_language():
        """Remember the user's language for this browser."""
        chosen = request.form.get("lang")
        if chosen in LANGUAGES:
            session["lang"] = chosen
        return back("participant.home")

    @app.errorhandler(CSRFError)
    def csrf_failed(_error):
        from toolkit.web.expired import expired

        message = gettext("This page has expired. Please reload it and try again; nothing you entered before was lost.")
        return expired(message, 400)

    @app.errorhandler(NotFound)
    def not_found(_error):
        return _error_page(gettext("This page does not exist, or it is not yours to see."), 404)

    @app.errorhandler(HTTPException)
    def http_error(error):
        messages = {
            400: gettext("The request could not be understood. Please reload the page and try again."),
            403: gettext("You are not allowed to do this."),
            404: gettext("This page does not exist, or it is not yours to see."),
            405: gettext("This address does not accept that kind of request."),
            413: gettext("What you sent is too large: a page takes at most %(size)d KB.",
                         size=(request.max_content_length or limits.REQUEST_BYTES) // 1024),
        }
        message = messages.get(error.code, gettext("Something went wrong. Please try again."))
        return _error_page(message, error.code or 500)

    @app.errorhandler(throttle.TooMany)
    def throttled(error):
        minutes = max(1, -(-error.seconds // 60))
        response = _error_page(gettext("Too many attempts from your network. Please wait %(minutes)d minutes "
                                       "and try again.", minutes=minutes), 429)
        response.headers["Retry-After"] = str(error.seconds)
        return response

    @app.errorhandler(Invalid)
    def invalid_anywhere(error):
        return _error_page(gettext(error.message, **error.params), 422)

    handle_storage_errors(app)


def _error_page(message: str, status: int):
    if htmx:
        return error_fragment(message, status)
    return make_response(render_template("error.html", message=message, status=status), status)



# The storage cannot take a write now (disk full, file read-only, I/O failure, locked too
# long): SQLite rolled the transaction back, so the person only needs to try again later.
STORAGE_ERRORS = ("SQLITE_FULL", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_CANTOPEN", "SQLITE_BUSY")
RETRY_AFTER_SECONDS = 10


def is_storage_error(error: BaseException) -> bool:
    """Whether error says the database cannot be written now, rather than that the code is wrong."""
    name = getattr(error, "sqlite_errorname", None) or ""
    return isinstance(error, sqlite3.DatabaseError) and name.startswith(STORAGE_ERRORS)


def handle_storage_errors(app: Flask) -> None:
    """Answer a storage failure with 503 and a message saying nothing was saved; log it."""

    @app.errorhandler(sqlite3.DatabaseError)
    def storage_failed(error):
        if not is_storage_error(error):
            raise error  # a bug stays a 500, handled as before
        app.logger.error("Storage error on %s %s: %s (%s)", request.method, request.path,
                         error, error.sqlite_errorname)
        message = gettext("The server cannot save right now, so nothing you sent was saved. "
                          "Please try again in a moment, or tell the facilitator.")
        response = _error_page(message, 503)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
