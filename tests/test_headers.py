"""Every answer forbids framing and sniffing and names no software; error pages show no internals."""
import http.client
import re
import time
import urllib.error
import urllib.request

import pytest
from conftest import at_step, join

from toolkit import ROOT, agenda, create_app
from toolkit import workshop as workshops
from toolkit.db import connect, migrate

# What would tell an attacker which software or version answers, or how it failed inside.
REVEALING = re.compile(r"Traceback|File \"|werkzeug|waitress|flask|jinja|python|sqlite|\d+\.\d+\.\d+", re.I)


def assert_safe_headers(headers, where=""):
    """The headers every answer must carry, and none that names the server."""
    policy = headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in policy, where
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy, where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") in ("same-origin", "no-referrer"), where
    for name in ("Server", "X-Powered-By", "Via"):
        assert not headers.get(name), (where, name, headers.get(name))


def assert_no_internals(body: str, where=""):
    """No stack trace, module or version in an answer's body (the vendored htmx file name aside)."""
    text = body.replace("htmx-2.0.11", "")
    assert not REVEALING.search(text), (where, REVEALING.search(text))


def test_every_kind_of_answer_carries_the_headers(app, db, facilitator, workshop):
    workshop = at_step(db, workshop, "review")
    agenda.export_draft(db, workshop)
    person = join(app, workshop)
    code = workshop["code"]
    rev = workshops.get(db, workshop["id"])["revision"]  # after the join, which changed it
    answers = {
        "page": facilitator.get(f"/facilitator/workshops/{code}"),
        "fragment": person.get(f"/w/{code}/live?step=drivers", headers={"HX-Request": "true"}),
        "204 live": person.get(f"/w/{code}/live?rev={rev}&step=review"),
        "presenter 204": facilitator.get(f"/facilitator/workshops/{code}/present/live?rev={rev}"),
        "static": facilitator.get("/static/toolkit.css"),
        "script": facilitator.get("/static/vendor/htmx-2.0.11.min.js"),
        "draft download": facilitator.get(f"/facilitator/workshops/{code}/drafts/1.docx"),
        "markdown": facilitator.get(f"/facilitator/workshops/{code}/agenda.md"),
        "csv": facilitator.get(f"/facilitator/workshops/{code}/actions.csv"),
        "json": facilitator.get(f"/facilitator/workshops/{code}/workshop.json"),
        "redirect": person.post(f"/w/{code}/done", {"done": "1"}),
        "404": facilitator.get("/no/such/page"),
        "405": facilitator.post("/facilitator/"),
        "413": facilitator.post(f"/w/{code}/items", {"title": "x" * 70_000}),
        "csrf 400": facilitator.post("/logout", csrf=False),
        "htmx 401": person.get("/facilitator/", headers={"HX-Request": "true"}),
    }
    assert answers["204 live"].status_code == 204
    assert answers["413"].status_code == 413
    for kind, response in answers.items():
        assert_safe_headers(response.headers, kind)
        # A download must not be sniffed into a page: it says what it is.
        assert response.headers.get("Content-Type"), kind


@pytest.mark.parametrize("path, method, status", [("/no/such/page", "get", 404), ("/facilitator/", "post", 405),
                                                  ("/w/ZZZZ10/items", "big", 413)])
def test_error_pages_say_what_happened_and_nothing_more(visitor, path, method, status):
    if method == "big":
        response = visitor.post(path, {"title": "x" * 70_000})
    else:
        response = getattr(visitor, method)(path)
    assert response.status_code == status
    body = response.get_data(as_text=True)
    assert "<h1>" in body
    assert_no_internals(body, path)


@pytest.fixture
def failing_app(tmp_path):
    """The app as served (not testing, exceptions not propagated) with one route that fails."""
    app = create_app({"SECRET_KEY": "test", "DATABASE": str(tmp_path / "f.db"), "TESTING": False,
                      "PROPAGATE_EXCEPTIONS": False, "DEBUG": False})
    migrate(connect(app.config["DATABASE"]))

    def broken():
        raise RuntimeError("secret internals /home/anna/toolkit/db.py line 42 sqlite3 3.40.1")

    app.add_url_rule("/broken", "broken", broken)
    return app


def test_a_failure_shows_a_plain_error_page(failing_app):
    client = failing_app.test_client()
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get("/broken", headers=headers)
        assert response.status_code == 500
        body = response.get_data(as_text=True)
        assert "secret internals" not in body and "RuntimeError" not in body
        assert_no_internals(body)
        assert 'class="message error"' in body or "<h1>" in body
        assert_safe_headers(response.headers, "500")


def _fetch(url, data=None):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10) as answer:
            return answer.status, answer.headers, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode("utf-8", "replace")


def test_the_real_server_names_no_software(server):
    """`toolkit serve` on uvicorn: the same headers, and no Server header naming it."""
    for path, data in (("/", None), ("/static/toolkit.css", None), ("/no/such/page", None),
                       ("/login", b"email=x"), ("/facilitator/", None)):
        status, headers, body = _fetch(server + path, data)
        assert status < 500, path
        assert_safe_headers(headers, path)
        if status >= 400:
            assert_no_internals(body, path)


def test_scripts_and_stylesheets_are_compressed_and_pages_are_not(app):
    """Pages carry CSRF tokens next to text others typed: never compressed (BREACH)."""
    import brotli

    client = app.test_client()
    asked = {"Accept-Encoding": "gzip, deflate, br"}  # as browsers ask
    script = client.get("/static/vendor/htmx-2.0.11.min.js", headers=asked)
    assert script.headers.get("Content-Encoding") == "br"
    plain = brotli.decompress(script.get_data())
    assert len(plain) == (ROOT / "static/vendor/htmx-2.0.11.min.js").stat().st_size > 2 * len(script.get_data())
    assert client.get("/static/toolkit.css", headers=asked).headers.get("Content-Encoding") == "br"
    page = client.get("/", headers=asked)
    assert page.status_code == 200 and "Content-Encoding" not in page.headers


def test_the_real_server_keeps_an_idle_connection_open(server):
    """A phone may pause longer than a few seconds; the connection it kept must still take its next request."""
    host, port = server.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", "/")
    assert connection.getresponse().read()
    time.sleep(6)  # past uvicorn's own default of 5 s
    connection.request("GET", "/")  # on the same connection: http.client does not reconnect by itself
    assert connection.getresponse().status == 200
    connection.close()
