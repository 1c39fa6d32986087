"""Fixtures: an app over a throwaway database with the study loaded, and people to act in it."""
import re

import pytest

from toolkit import catalogue, create_app
from toolkit import facilitator as facilitators
from toolkit import workshop as workshops
from toolkit.db import connect, migrate

PASSWORD = "correct horse battery"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


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


def join(app, workshop, group="companies", name="Pat", organisation="Acme"):
    """A new browser that has joined workshop; its participant id is .participant_id."""
    browser = Visitor(app.test_client())
    response = browser.post(f"/j/{workshop['code']}",
                            {"name": name, "organisation": organisation, "stakeholder_group": group})
    assert response.status_code == 303, response.get_data(as_text=True)
    with browser.client.session_transaction() as session:
        browser.participant_id = session["participants"][str(workshop["id"])]
    return browser
