"""The workshop toolkit: a Flask app over a library of workshop functions on SQLite."""
import os
import secrets
from pathlib import Path

from flask import Flask

from toolkit import limits

ROOT = Path(__file__).resolve().parent.parent


def _secret_key(instance_path: Path) -> str:
    # Kept in the instance folder so sessions survive a restart of the server.
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(test_config=None) -> Flask:
    """Build the app: config, database, translations, CSRF, htmx and the blueprints."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("TOOLKIT_INSTANCE", str(ROOT / "instance")),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    instance = Path(app.instance_path)
    app.config.from_mapping(
        DATABASE=os.environ.get("TOOLKIT_DATABASE", str(instance / "toolkit.db")),
        MAX_CONTENT_LENGTH=limits.REQUEST_BYTES,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        # The cookie is sent again only when the session changed: an idle poll stays small.
        SESSION_REFRESH_EACH_REQUEST=False,
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_HEADERS=["X-CSRFToken"],
        BABEL_DEFAULT_LOCALE="nl",
        # Days after its last activity a workshop is removed; unset keeps workshops forever.
        RETENTION_DAYS=os.environ.get("TOOLKIT_RETENTION_DAYS") or None,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance)

    _behind_proxies(app)

    from toolkit.web import init_web

    init_web(app)
    return app


def _behind_proxies(app: Flask) -> None:
    """Trust the address, scheme and host a reverse proxy passes on, when told how many there are."""
    proxies = int(app.config.get("PROXIES") or os.environ.get("TOOLKIT_PROXIES") or 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    secure = app.config.get("SESSION_COOKIE_SECURE") or os.environ.get("TOOLKIT_SECURE_COOKIES", "") == "1"
    # A proxy that ends HTTPS makes every session cookie Secure unless explicitly told otherwise.
    if proxies and os.environ.get("TOOLKIT_SECURE_COOKIES", "") != "0":
        secure = True
    app.config["SESSION_COOKIE_SECURE"] = bool(secure)
