"""The baseline for benchmarks.load: the least a Flask app on the toolkit's server can do, on this machine.

One small template on GET, one SQLite insert on POST, served like `toolkit serve` serves
(uvicorn, Flask in the same number of threads, a process per core with a listening socket each), so the figures
can be read as ratios to it.

With --guarded, the same app keeps a signed session and checks each POST's CSRF token with
Flask-WTF, as every form of the toolkit does: what those checks cost on their own.

Run: BASELINE_DATABASE=/tmp/b.db .venv/bin/python -m benchmarks.baseline --port 5001 [--guarded]
"""
import argparse
import os
import sqlite3
import threading

from flask import Flask, render_template_string, request

from toolkit import serving

PAGE = "<!doctype html><title>Baseline</title><p>Revision {{ revision }}</p>"
local = threading.local()


def create_app(database: str, guarded: bool = False) -> Flask:
    """A Flask app with one page and one insert, on a WAL database like the toolkit's; guarded, behind a CSRF check."""
    app = Flask(__name__)
    if guarded:
        from flask_wtf.csrf import CSRFProtect, generate_csrf

        app.secret_key = os.urandom(32)
        app.config["WTF_CSRF_TIME_LIMIT"] = None  # as the toolkit's tokens: they do not age
        CSRFProtect(app)
        # The token, and with it the session cookie that holds its secret.
        app.add_url_rule("/token", "token", generate_csrf)
    setup = sqlite3.connect(database)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY, value TEXT NOT NULL)")
    setup.commit()
    setup.close()

    def db():
        if not hasattr(local, "db"):
            local.db = sqlite3.connect(database, isolation_level=None)
            local.db.execute("PRAGMA busy_timeout=5000")
            local.db.execute("PRAGMA synchronous=NORMAL")
        return local.db

    @app.get("/")
    def page():
        return render_template_string(PAGE, revision=1)

    @app.post("/insert")
    def insert():
        db().execute("INSERT INTO hits (value) VALUES (?)", [request.form.get("value", "")])
        return "", 204

    return app


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=serving.THREADS)
    parser.add_argument("--processes", type=int, default=serving.default_processes())
    parser.add_argument("--guarded", action="store_true", help="a signed session and a CSRF check on each POST")
    args = parser.parse_args()
    app = create_app(os.environ["BASELINE_DATABASE"], guarded=args.guarded)
    # Bound as `toolkit serve` binds (toolkit/cli.py): with several processes, a socket each.
    bound = (serving.listen if args.processes == 1 else serving.reserve)("127.0.0.1", args.port)

    def serve(_number=0):
        listening = bound if args.processes == 1 else serving.listen_beside(bound)
        serving.hand_over_quickly()
        serving.server(serving.wsgi_to_asgi(app, args.threads)).run(sockets=[listening])

    if args.processes == 1:
        serve()
        return
    serving.run(serve, args.processes, print)


if __name__ == "__main__":
    main()
