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
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_HEADERS=["X-CSRFToken"],
        BABEL_DEFAULT_LOCALE="nl",
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance)

    from toolkit.web import init_web

    init_web(app)
    return app
