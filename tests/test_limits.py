"""Limits: oversized requests are refused before any work, and every count a workshop holds has a maximum."""
import html
import io
import re
import socket
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest
from conftest import TOKEN, WORKSHOP_FORM, at_step, join, person

from toolkit import action, agenda, limits
from toolkit import facilitator as facilitators
from toolkit import workshop as workshops
from toolkit.db import connect
from toolkit.i18n import gettext_for

TOO_LARGE = "What you sent is too large: a page takes at most 64 KB."
TABLES = ("workshops", "participants", "items", "votes", "comments", "actions", "drafts", "edits")


def state(db):
    """What a request that did any work would have changed: revisions, presence and row counts."""
    return (db.execute("SELECT group_concat(revision) FROM workshops").fetchone()[0],
            db.execute("SELECT group_concat(coalesce(last_seen, '-')) FROM participants").fetchone()[0],
            {table: db[table].count for table in TABLES})


@pytest.fixture
def voting(app, db, workshop):
    """A workshop at its drivers step, a joined participant's browser and a driver."""
    workshop = at_step(db, workshop, "drivers")
    browser = join(app, workshop)
    browser.post("/language", {"lang": "en"})
    return workshop, browser, workshops.items(db, workshop, kinds=("driver",))[0]


# Request size, through Flask's test client.

def test_a_body_over_the_limit_is_refused_before_the_view(db, voting):
    workshop, browser, driver = voting
    before = state(db)
    padding = "x" * limits.REQUEST_BYTES
    for htmx in (False, True):
        response = browser.post(f"/w/{workshop['code']}/items/{driver['id']}/dots",
                                {"dots": "1", "padding": padding}, htmx=htmx)
        assert response.status_code == 413
        assert TOO_LARGE in response.get_data(as_text=True)
    assert state(db) == before


def test_a_content_length_over_the_limit_is_refused_unread(db, voting):
    workshop, browser, driver = voting
    before = state(db)
    body = urllib.parse.urlencode({"csrf_token": browser.token(), "dots": "1"}).encode()
    response = browser.client.post(f"/w/{workshop['code']}/items/{driver['id']}/dots", data=body,
                                   content_type="application/x-www-form-urlencoded",
                                   environ_overrides={"CONTENT_LENGTH": str(limits.REQUEST_BYTES + 1)})
    assert response.status_code == 413 and TOO_LARGE in response.get_data(as_text=True)
    assert state(db) == before


def test_a_chunked_body_growing_past_the_limit_is_refused(db, voting):
    workshop, browser, driver = voting
    before = state(db)
    body = urllib.parse.urlencode({"csrf_token": browser.token(), "dots": "1",
                                   "padding": "x" * limits.REQUEST_BYTES}).encode()
    response = browser.client.post(f"/w/{workshop['code']}/items/{driver['id']}/dots",
                                   input_stream=io.BytesIO(body),
                                   content_type="application/x-www-form-urlencoded",
                                   headers={"Transfer-Encoding": "chunked"},
                                   environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413 and TOO_LARGE in response.get_data(as_text=True)
    assert state(db) == before


def test_a_body_just_under_the_limit_is_taken(db, voting):
    workshop, browser, driver = voting
    response = browser.post(f"/w/{workshop['code']}/items/{driver['id']}/dots",
                            {"dots": "1", "padding": "x" * (limits.REQUEST_BYTES - 200)})
    assert response.status_code == 303


# Request size, against the real `toolkit serve`.

def _raw(server, head: bytes, body_chunks=(), timeout=10) -> bytes:
    """Send head and then body_chunks over one connection until the server answers; its answer."""
    host, port = urllib.parse.urlsplit(server).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(head)
        sock.settimeout(0.05)
        answer = b""
        for chunk in body_chunks:
            try:
                answer += sock.recv(65536)
            except socket.timeout:
                pass
            except ConnectionError:
                break
            if answer:
                break
            try:
                sock.sendall(chunk)
            except ConnectionError:
                break
        sock.settimeout(timeout)
        try:
            while b"\r\n\r\n" not in answer:
                got = sock.recv(65536)
                if not got:
                    break
                answer += got
            sock.settimeout(1)
            while got := sock.recv(65536):  # the page, as far as the server sends it
                answer += got
        except (socket.timeout, ConnectionError):
            pass
        return answer


@pytest.fixture(scope="module")
def served_room(server, served_database):
    """A workshop on the served database and a browser (cookie jar, CSRF token) that joined it."""
    db = connect(served_database / "b.db")
    account = facilitators.by_email(db, "fa@example.org")
    made = at_step(db, workshops.create(db, account["id"], WORKSHOP_FORM), "drivers")
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{server}/j/{made['code']}").read().decode()
    form = {"csrf_token": TOKEN.search(page).group(1), "name": "Sam", "organisation": "Acme",
            "stakeholder_group": "companies"}
    opener.open(f"{server}/j/{made['code']}", urllib.parse.urlencode(form).encode()).read()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    yield {"db": db, "workshop": made, "cookie": cookie, "token": form["csrf_token"],
           "driver": workshops.items(db, made, kinds=("driver",))[0]}
    db.close()


def _head(room, length=None, chunked=False) -> bytes:
    path = f"/w/{room['workshop']['code']}/items/{room['driver']['id']}/dots"
    size = f"Content-Length: {length}\r\n" if length is not None else ""
    return (f"POST {path} HTTP/1.1\r\nHost: localhost\r\nCookie: {room['cookie']}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\n{size}"
            f"{'Transfer-Encoding: chunked' + chr(13) + chr(10) if chunked else ''}\r\n").encode()


def test_serve_refuses_a_form_over_the_app_limit(served_room, server):
    db = served_room["db"]
    before = state(db)
    body = urllib.parse.urlencode({"csrf_token": served_room["token"], "dots": "1",
                                   "padding": "x" * limits.REQUEST_BYTES}).encode()
    answer = _raw(server, _head(served_room, len(body)) + body)
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"64 KB" in answer
    assert state(db) == before


def test_serve_refuses_a_content_length_over_the_largest_limit_without_reading(served_room, server):
    db = served_room["db"]
    before = state(db)
    # Only the head is sent: the answer comes without waiting for 17 MB that never arrive.
    answer = _raw(server, _head(served_room, limits.LARGEST_REQUEST_BYTES + 1), timeout=5)
    assert answer.startswith(b"HTTP/1.1 413")
    assert state(db) == before


def _chunks(total: int, size: int = 256 * 1024):
    first = b"dots=1&padding="
    yield f"{len(first):x}\r\n".encode() + first + b"\r\n"
    sent = 0
    while sent < total:
        yield f"{size:x}\r\n".encode() + b"x" * size + b"\r\n"
        sent += size
    yield b"0\r\n\r\n"


@pytest.mark.parametrize("total", [limits.REQUEST_BYTES * 2, limits.LARGEST_REQUEST_BYTES + 1024 * 1024])
def test_serve_refuses_a_chunked_body_growing_past_a_limit(served_room, server, total):
    db = served_room["db"]
    before = state(db)
    answer = _raw(server, _head(served_room, chunked=True), _chunks(total))
    assert answer.startswith(b"HTTP/1.1 413")
    assert state(db) == before


# Counts, checked inside the write.

def _says(response, message: str, **params) -> bool:
    """Whether the page carries message, in the workshop's language (nl or en)."""
    page = html.unescape(response.get_data(as_text=True))
    return any(gettext_for(lang)(message) % params in page for lang in ("nl", "en"))


def test_workshops_per_facilitator(facilitator, db, monkeypatch):
    monkeypatch.setattr(limits, "WORKSHOPS", 2)
    for _ in range(2):
        assert facilitator.post("/facilitator/workshops/new", WORKSHOP_FORM).status_code == 303
    response = facilitator.post("/facilitator/workshops/new", WORKSHOP_FORM)
    assert response.status_code == 422
    assert _says(response, "You have the most workshops one account can hold (%(max)d).", max=2)
    assert db["workshops"].count == 2


def test_room_items_per_workshop(db, voting, monkeypatch):
    workshop, browser, _driver = voting
    monkeypatch.setattr(limits, "ROOM_ITEMS", 1)
    assert browser.post(f"/w/{workshop['code']}/items", {"title": "First"}).status_code == 303
    response = browser.post(f"/w/{workshop['code']}/items", {"title": "Second"})
    assert response.status_code == 422
    assert _says(response, "This workshop already holds the most items of its own it can take (%(max)d).", max=1)
    assert [i["title"] for i in workshops.items(db, workshop) if i["origin"] == "workshop"] == ["First"]


def test_comments_per_participant_per_item_and_per_workshop(app, db, voting, monkeypatch):
    workshop, browser, driver = voting
    monkeypatch.setattr(limits, "COMMENTS_PER_ITEM", 2)
    monkeypatch.setattr(limits, "COMMENTS", 3)
    url = f"/w/{workshop['code']}/items/{driver['id']}/comments"
    for n in range(2):
        assert browser.post(url, {"body": f"Comment {n}"}).status_code == 303
    response = browser.post(url, {"body": "One too many"}, htmx=True)
    assert response.status_code == 422
    assert _says(response, "You can add at most %(max)d comments to one item.", max=2)
    other = join(app, workshop, name="Kim")
    assert other.post(url, {"body": "Kim's"}).status_code == 303
    response = join(app, workshop, name="Lou").post(url, {"body": "Lou's"})
    assert response.status_code == 422
    assert _says(response, "This workshop already holds the most comments it can take (%(max)d).", max=3)
    assert db["comments"].count == 3


def test_actions_per_workshop(facilitator, db, workshop, monkeypatch):
    recommendation = workshops.items(db, workshop, kinds=("recommendation",))[0]
    workshops.set_adopted(db, workshop, recommendation["id"], True)
    monkeypatch.setattr(limits, "ACTIONS", 1)
    url = f"/facilitator/workshops/{workshop['code']}/actions"
    form = {"recommendation_id": recommendation["id"], "what": "Start"}
    assert facilitator.post(url, form).status_code == 303
    response = facilitator.post(url, {**form, "what": "Another"})
    assert response.status_code == 422
    assert _says(response, "This workshop already holds the most actions it can take (%(max)d).", max=1)
    assert [a["what"] for a in action.for_workshop(db, workshop)] == ["Start"]


def test_drafts_per_workshop(facilitator, db, workshop, monkeypatch):
    monkeypatch.setattr(limits, "DRAFTS", 1)
    url = f"/facilitator/workshops/{workshop['code']}/drafts"
    assert facilitator.post(url).status_code == 303
    response = facilitator.post(url)
    assert response.status_code == 422
    assert _says(response, "This workshop already keeps the most drafts it can (%(max)d).", max=1)
    assert len(agenda.drafts(db, workshop)) == 1


def test_participants_limit_for_join(db, workshop, monkeypatch):
    """The helper join will call; participant.py itself is being rewritten elsewhere."""
    monkeypatch.setattr(limits, "PARTICIPANTS", 1)
    limits.participants(db, workshop)
    person(db, workshop)
    with pytest.raises(limits.Invalid) as refused:
        limits.participants(db, workshop)
    assert refused.value.params == {"max": 1} and refused.value.field == "name"
    assert limits.PARTICIPANTS == 1 and re.search(r"at most %\(max\)d participants", refused.value.message)
