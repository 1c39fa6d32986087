"""Fixtures: an app over a throwaway database with the study loaded, and people to act in it."""
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from toolkit import catalogue, create_app
from toolkit import facilitator as facilitators
from toolkit import participant
from toolkit import workshop as workshops
from toolkit.db import connect, migrate

PASSWORD = "correct horse battery"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True, scope="session")
def quick_password_hashing():
    """Argon2 at a test-sized cost: the real 64 MiB cost is checked in test_accounts, once."""
    from argon2 import PasswordHasher

    real = facilitators.HASHER
    facilitators.HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    facilitators.HASHER = real


@pytest.fixture
def app(tmp_path):
    """The app on a fresh database in tmp_path, catalogue loaded."""
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE": str(tmp_path / "t.db")})
    db = connect(app.config["DATABASE"])
    migrate(db)
    catalogue.load(db)
    db.close()
    return app


@pytest.fixture
def db(app):
    """A connection to the app's database."""
    conn = connect(app.config["DATABASE"])
    yield conn
    conn.close()


class Visitor:
    """A browser's cookie jar: GETs and POSTs with the CSRF token a page would carry."""

    def __init__(self, client):
        self.client = client
        self._token = None

    def token(self):
        if self._token is None:
            page = self.client.get("/").get_data(as_text=True)
            self._token = TOKEN.search(page).group(1)
        return self._token

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url, data=None, htmx=False, csrf=True, **kwargs):
        data = dict(data or {})
        headers = kwargs.pop("headers", {})
        if csrf:
            data.setdefault("csrf_token", self.token())
        if htmx:
            headers["HX-Request"] = "true"
        return self.client.post(url, data=data, headers=headers, **kwargs)


@pytest.fixture
def visitor(app):
    """Someone with a browser and no account."""
    return Visitor(app.test_client())


def make_facilitator(db, email="fa@example.org", name="Fa"):
    """A facilitator account with the test password."""
    return facilitators.create(db, email, name, PASSWORD)


@pytest.fixture
def facilitator(app, db):
    """A logged-in facilitator's browser; its account is .account."""
    account = make_facilitator(db)
    browser = Visitor(app.test_client())
    response = browser.post("/login", {"email": account["email"], "password": PASSWORD})
    assert response.status_code == 303
    browser._token = None  # login starts a fresh session, with a fresh CSRF token
    browser.account = account
    return browser


WORKSHOP_FORM = {"title": "Actieagenda Twente", "region": "Twente", "sector": "Maakindustrie",
                 "date": "2026-12-01", "language": "nl", "dots": "5"}


@pytest.fixture
def workshop(db, facilitator):
    """A Dutch workshop of the logged-in facilitator, five dots per step."""
    return workshops.create(db, facilitator.account["id"], WORKSHOP_FORM)


def at_step(db, workshop, step):
    """The workshop, moved to step."""
    workshops.set_step(db, workshop["id"], step)
    return workshops.get(db, workshop["id"])


def person(db, workshop, group="companies", name="Pat", organisation="Acme"):
    """A participant joined through the library (no browser)."""
    return participant.join(db, workshop, {"name": name, "organisation": organisation,
                                           "stakeholder_group": group})


def join(app, workshop, group="companies", name="Pat", organisation="Acme"):
    """A new browser that has joined workshop; its participant id is .participant_id."""
    browser = Visitor(app.test_client())
    response = browser.post(f"/j/{workshop['code']}",
                            {"name": name, "organisation": organisation, "stakeholder_group": group})
    assert response.status_code == 303, response.get_data(as_text=True)
    with browser.client.session_transaction() as session:
        browser.participant_id = session["participants"][str(workshop["id"])][0]
    return browser


# Browser tests: the real server and the system Chromium, shared by every browser test module.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_PASSWORD = "browser test password"


def english_cli(tmp_path, monkeypatch):
    """Point the CLI at a fresh, initialised tmp_path/live.db, speaking English; returns tmp_path."""
    from click.testing import CliRunner
    from toolkit import cli

    monkeypatch.setenv("TOOLKIT_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("TOOLKIT_DATABASE", str(tmp_path / "live.db"))
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    assert CliRunner().invoke(cli.main, ["init"]).exit_code == 0
    return tmp_path


def free_port():
    """A loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served_database(tmp_path_factory):
    """The folder of a fresh database with the study and one facilitator account (fa@example.org)."""
    folder = tmp_path_factory.mktemp("served")
    db = connect(folder / "b.db")
    migrate(db)
    catalogue.load(db)
    facilitators.create(db, "fa@example.org", "Fa", BROWSER_PASSWORD)
    db.close()
    return folder


@pytest.fixture(scope="module")
def server(served_database):
    """`toolkit serve` on that database; its base URL."""
    port = free_port()
    env = {**os.environ, "TOOLKIT_INSTANCE": str(served_database / "i"),
           "TOOLKIT_DATABASE": str(served_database / "b.db")}
    process = subprocess.Popen([sys.executable, "-c", "from toolkit.cli import main; main()", "serve",
                                "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    yield base
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def chromium():
    """Headless system Chromium; in CI a missing browser fails instead of skipping."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed")
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"])
        watched = PolicyWatch(launched)
        yield watched
        launched.close()
        # Every page ran under the Content-Security-Policy; the browser reported no violation.
        assert watched.violations == []


class PolicyWatch:
    """The browser, with every context it opens reporting Content-Security-Policy violations."""

    def __init__(self, browser):
        self.browser = browser
        self.violations = []

    def new_context(self, **options):
        context = self.browser.new_context(**options)
        context.on("console", self._console)
        return context

    def _console(self, message):
        if "Content Security Policy" in message.text:
            self.violations.append(message.text)


def axe_serious(page):
    """The ids of serious and critical accessibility violations axe-core finds on page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")]




def signed_in(chromium, server):
    """A page of the browser-test facilitator, logged in."""
    page = chromium.new_context(locale="en-GB").new_page()
    page.goto(server + "/login")
    page.fill("#f-email", "fa@example.org")
    page.fill("#f-password", BROWSER_PASSWORD)
    page.click("main button.primary")
    return page


def prepared(page, server, title) -> str:
    """Prepare an English workshop called title through the form, as its facilitator; returns its code."""
    page.goto(server + "/facilitator/workshops/new")
    page.fill("#f-title", title)
    page.fill("#f-region", "Twente")
    page.fill("#f-sector", "Maakindustrie")
    page.select_option("#f-language", "en")
    page.click("main button.primary")
    return page.locator(".code").inner_text().replace(" ", "")


def joined(chromium, server, code, name, group):
    """A phone-sized page that has joined workshop code as name of group, on its step page."""
    page = chromium.new_context(locale="en-GB", viewport={"width": 390, "height": 844}).new_page()
    page.goto(f"{server}/j/{code}")
    page.fill("#f-name", name)
    page.fill("#f-organisation", f"{name} Ltd")
    page.select_option("#f-stakeholder_group", group)
    page.click("main button.primary")
    page.wait_for_url(re.compile(f"/w/{code}"))
    return page
