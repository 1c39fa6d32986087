"""The poll shortcut in front of Flask: it gives only answers Flask gave, to the browsers Flask gave them to."""
import asyncio
import re
import threading

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import WORKSHOP_FORM, at_step, join
from toolkit import participant as participants
from toolkit import serving
from toolkit import step as steps
from toolkit import workshop as workshops
from toolkit.web.poll_shortcut import (FRESH_SECONDS, GRANT_SECONDS, IN_FRONT, PRESENCE_SECONDS, RECORD_EVERY,
                                       REFRESH_SECONDS, PollShortcut)

POLLER = re.compile(r'id="live" hx-get="([^"]+)"')


class Counted:
    """A WSGI app that counts the requests it was asked; a request with an X-Hold header waits while it is told to."""

    def __init__(self, app):
        self.app, self.calls = app, 0
        self.go = threading.Event()
        self.go.set()

    def __call__(self, environ, start_response):
        self.calls += 1
        if environ.get("HTTP_X_HOLD"):
            assert self.go.wait(10)
        return self.app(environ, start_response)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def shortcut(app, clock=None, fresh=FRESH_SECONDS):
    """The app behind a poll shortcut, as `toolkit serve` runs it; the Flask side counted."""
    flask = Counted(app)
    front = PollShortcut(serving.wsgi_to_asgi(flask, 2, **{IN_FRONT: True}), app.config["DATABASE"],
                         clock=clock or Clock(), fresh_seconds=fresh)
    return front, flask


async def asked(asgi, url: str, headers: list) -> tuple[int, dict, str]:
    """One GET through an ASGI app, on the running event loop: status, headers (lower case), body."""
    path, _, query = url.partition("?")
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
             "root_path": "", "headers": headers, "client": ("127.0.0.1", 40000),
             "server": ("127.0.0.1", 5000)}
    await asyncio.wait_for(asgi(scope, receive, send), 10)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body.decode()


def get(asgi, url: str, headers: list) -> tuple[int, dict, str]:
    """One GET through an ASGI app: status, headers (lower case), body."""
    return asyncio.run(asked(asgi, url, headers))


def headers_of(browser) -> list:
    """The headers htmx's poller sends from this browser."""
    return [(b"host", b"localhost"), (b"hx-request", b"true"),
            (b"cookie", f"session={browser.client.get_cookie('session').value}".encode())]


def poll_url(page: str) -> str:
    return POLLER.search(page).group(1).replace("&amp;", "&")


def revision_in(url: str) -> int:
    return int(re.search(r"[?&]rev=(\d+)", url).group(1))


def voting_room(app, db, workshop, people=("Anna", "Bram")):
    workshop = at_step(db, workshop, "drivers")
    steps.set_revealed(db, workshop, "drivers", True)
    browsers = [join(app, workshop, name=name) for name in people]
    pages = [browser.get(f"/w/{workshop['code']}").get_data(as_text=True) for browser in browsers]
    return workshop, browsers, [poll_url(page) for page in pages]


def test_an_unchanged_room_is_answered_without_asking_flask_again(app, db, workshop):
    workshop, (anna, _), (url, _) = voting_room(app, db, workshop)
    front, flask = shortcut(app)
    answers = [get(front, url, headers_of(anna)) for _ in range(4)]
    assert [status for status, _, _ in answers] == [204] * 4
    assert flask.calls == 1
    for _, headers, _ in answers:
        assert not [name for name in headers if name.startswith("x-toolkit")]  # meant for the shortcut only
        assert headers["content-security-policy"] and headers["x-frame-options"] == "DENY"


def test_one_rendering_of_a_change_reaches_the_whole_room(app, db, workshop):
    workshop, (anna, bram, cas), urls = voting_room(app, db, workshop, ("Anna", "Bram", "Cas"))
    front, flask = shortcut(app)
    for browser, url in zip((anna, bram, cas), urls):
        assert get(front, url, headers_of(browser))[0] == 204
    item = workshops.items(db, workshop, ("driver",))[0]
    assert anna.post(f"/w/{workshop['code']}/items/{item['id']}/dots", {"dots": "2"}, htmx=True).status_code == 200
    calls = flask.calls
    seen = [get(front, url, headers_of(browser)) for browser, url in zip((bram, cas, anna), urls)]
    assert flask.calls == calls + 1  # Bram's poll asked Flask; Cas and Anna got the same bytes from the shortcut
    assert [status for status, _, _ in seen] == [200, 200, 200]
    assert seen[0][2] == seen[1][2] == seen[2][2] and "Totaal: 2" in seen[0][2]
    assert not [name for _, headers, _ in seen for name in headers if name.startswith("x-toolkit")]
    # The same bytes Flask gives any one of them
    assert cas.get(urls[1], headers={"HX-Request": "true"}).get_data(as_text=True) == seen[1][2]
    newer = poll_url(seen[0][2])
    assert get(front, newer, headers_of(bram))[0] == 204 and flask.calls == calls + 1


def test_someone_removed_is_sent_to_the_join_page_at_their_next_poll(app, db, workshop):
    workshop, (anna, bram), (url, _) = voting_room(app, db, workshop)
    front, flask = shortcut(app)
    assert get(front, url, headers_of(anna))[0] == 204
    participants.remove(db, workshop, anna.participant_id)
    assert get(front, url, headers_of(bram))[0] == 200  # the room's update at the new revision, kept
    status, headers, body = get(front, url, headers_of(anna))
    assert status == 200 and headers["hx-redirect"] == f"/j/{workshop['code']}" and body == ""


def test_a_new_participant_given_a_removed_ones_id_does_not_inherit_the_grant(app, db, workshop):
    workshop, (anna,), (url,) = voting_room(app, db, workshop, ("Anna",))
    front, flask = shortcut(app)
    assert get(front, url, headers_of(anna))[0] == 204
    participants.remove(db, workshop, anna.participant_id)
    # SQLite gives the next row the freed id: same id, another session key.
    again = join(app, workshop, name="Dirk")
    assert again.participant_id == anna.participant_id
    assert get(front, url, headers_of(anna))[1].get("hx-redirect") == f"/j/{workshop['code']}"


def test_each_page_reaches_flask_once_per_grant(app, db, workshop):
    workshop, (anna, _), (url, _) = voting_room(app, db, workshop)
    clock = Clock()
    front, flask = shortcut(app, clock)
    for _ in range(3):
        get(front, url, headers_of(anna))
    assert flask.calls == 1
    clock.now += GRANT_SECONDS - 1
    get(front, url, headers_of(anna))
    assert flask.calls == 1
    clock.now += 1
    get(front, url, headers_of(anna))
    assert flask.calls == 2


def _away(db, participant_id):
    """Make participant_id's presence an hour old, as if their page had closed."""
    db.execute("UPDATE participants SET last_seen = '2000-01-01T00:00:00+00:00' WHERE id = ?", [participant_id])
    db.conn.commit()


def test_a_page_given_its_own_update_is_still_answered_by_the_shortcut_after(app, db, workshop):
    workshop, (anna, bram), (url, _) = voting_room(app, db, workshop)
    front, flask = shortcut(app)
    assert get(front, url, headers_of(anna))[0] == 204
    bram.post(f"/w/{workshop['code']}/items", {"title": "Eigen punt van Bram", "explanation": ""})
    status, _, body = get(front, url, headers_of(anna))  # the new item, with Anna's own controls
    assert status == 200 and "Eigen punt van Bram" in body and 'id="minus-' in body and flask.calls == 2
    assert get(front, poll_url(body), headers_of(anna))[0] == 204 and flask.calls == 2


def test_a_page_told_the_room_moved_on_is_answered_by_the_shortcut_once_it_reloaded(app, db, workshop):
    workshop, (anna, _), (url, _) = voting_room(app, db, workshop)
    front, flask = shortcut(app)
    assert get(front, url, headers_of(anna))[0] == 204
    at_step(db, workshop, "barriers")
    status, headers, _ = get(front, url, headers_of(anna))
    assert status == 200 and headers["hx-trigger"] == "room-moved" and flask.calls == 2
    reloaded = poll_url(anna.get(f"/w/{workshop['code']}").get_data(as_text=True))
    status, headers, _ = get(front, reloaded, headers_of(anna))
    assert status == 204 and "hx-trigger" not in headers and flask.calls == 2  # not told to reload again


async def until(condition, seconds=10.0):
    """Wait on the event loop until condition() holds."""
    for _ in range(int(seconds * 100)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("waited in vain")


def room_with_a_slow_page(app, db, workshop):
    """Anna, Bram and Cas polling through a shortcut; Bram's polls wait in Flask while flask.go is clear."""
    workshop, (anna, bram, cas), urls = voting_room(app, db, workshop, ("Anna", "Bram", "Cas"))
    clock = Clock()
    front, flask = shortcut(app, clock)
    held = headers_of(bram) + [(b"x-hold", b"1")]
    for url, headers in zip(urls, (headers_of(anna), held, headers_of(cas))):
        get(front, url, headers)

    def while_bram_waits(*polls, meanwhile=lambda: None):
        """Bram's poll sent and waiting in Flask, then meanwhile(), then polls (url, headers) answered: their
        answers, then his."""
        async def busy_server():
            calls = flask.calls
            flask.go.clear()
            waiting = asyncio.create_task(asked(front, urls[1], held))
            await until(lambda: flask.calls == calls + 1)
            meanwhile()
            answers = [await asked(front, url, headers) for url, headers in polls]
            flask.go.set()
            return answers, await waiting

        return asyncio.run(busy_server())

    return workshop, (anna, cas), urls, clock, front, flask, while_bram_waits


def room_moved_on_since_its_update(app, db, workshop):
    """room_with_a_slow_page, its shared update drawn for Cas, then another vote: the update is behind."""
    workshop, (anna, cas), urls, clock, front, flask, while_bram_waits = room_with_a_slow_page(app, db, workshop)
    first, second = workshops.items(db, workshop, ("driver",))[:2]
    anna.post(f"/w/{workshop['code']}/items/{first['id']}/dots", {"dots": "1"}, htmx=True)
    _, _, rendered = get(front, urls[2], headers_of(cas))
    anna.post(f"/w/{workshop['code']}/items/{second['id']}/dots", {"dots": "1"}, htmx=True)
    return (anna, cas), urls, clock, front, flask, while_bram_waits, rendered


def test_while_flask_draws_the_rooms_next_update_the_rest_of_the_room_gets_the_last_one(app, db, workshop):
    people, urls, clock, front, flask, while_bram_waits, rendered = room_moved_on_since_its_update(app, db, workshop)
    anna, cas = people
    clock.now += FRESH_SECONDS  # a second old: Bram's poll asks Flask
    calls = flask.calls
    ((cas_status, _, cas_body), (anna_status, _, _)), (status, _, newest) = while_bram_waits(
        (urls[2], headers_of(cas)), (poll_url(rendered), headers_of(anna)))
    assert (cas_status, cas_body, anna_status) == (200, rendered, 204) and flask.calls == calls + 1
    assert status == 200 and "Totaal: 1" in newest and newest != rendered
    assert get(front, urls[2], headers_of(cas))[2] == newest and flask.calls == calls + 1


def test_a_page_that_waits_in_flask_too_long_lets_another_ask(app, db, workshop):
    people, urls, clock, front, flask, while_bram_waits, rendered = room_moved_on_since_its_update(app, db, workshop)
    anna, cas = people
    clock.now += FRESH_SECONDS
    calls = flask.calls

    def ten_seconds_later():
        clock.now += REFRESH_SECONDS

    [(status, _, body)], _ = while_bram_waits((urls[2], headers_of(cas)), meanwhile=ten_seconds_later)
    assert flask.calls == calls + 2 and status == 200 and body != rendered and "Totaal: 1" in body


def test_pages_whose_items_changed_are_not_held_to_the_last_update(app, db, workshop):
    workshop, (anna, cas), urls, clock, front, flask, while_bram_waits = room_with_a_slow_page(app, db, workshop)
    item = workshops.items(db, workshop, ("driver",))[0]
    anna.post(f"/w/{workshop['code']}/items/{item['id']}/dots", {"dots": "1"}, htmx=True)
    get(front, urls[2], headers_of(cas))  # the room's update, kept
    anna.post(f"/w/{workshop['code']}/items", {"title": "Eigen punt van Anna", "explanation": ""})
    clock.now += FRESH_SECONDS
    status, _, body = get(front, urls[2], headers_of(cas))  # Flask: Cas's page lacks the new item
    assert status == 200 and "Eigen punt van Anna" in body
    calls = flask.calls
    [(status, _, body)], _ = while_bram_waits((urls[2], headers_of(cas)))  # Cas's page as it was, once more
    assert status == 200 and "Eigen punt van Anna" in body  # Flask's, not the update from before the item
    assert flask.calls == calls + 2


def test_a_page_the_shortcut_answers_is_recorded_as_open(app, db, workshop):
    workshop, (anna, bram), (url, _) = voting_room(app, db, workshop)
    clock = Clock()
    front, flask = shortcut(app, clock)
    get(front, url, headers_of(anna))  # Flask answers, and writes that Anna is here
    _away(db, anna.participant_id)
    clock.now += PRESENCE_SECONDS - 1
    get(front, url, headers_of(anna))
    front.record_presence()
    assert anna.participant_id not in steps.connected(db, workshop)  # written at most once per interval
    clock.now += 1
    get(front, url, headers_of(anna))
    assert flask.calls == 1 and front.due == {anna.participant_id}
    front.record_presence()
    assert anna.participant_id in steps.connected(db, workshop) and front.due == set()


def test_the_server_writes_presence_due_within_a_second_without_being_asked(app, db, workshop):
    workshop, (anna, bram), (url, url_bram) = voting_room(app, db, workshop)
    clock = Clock()
    front, flask = shortcut(app, clock)

    async def day():
        await asked(front, url, headers_of(anna))
        await asked(front, url_bram, headers_of(bram))
        _away(db, anna.participant_id)
        _away(db, bram.participant_id)
        clock.now += PRESENCE_SECONDS
        await asked(front, url, headers_of(anna))
        await asked(front, url_bram, headers_of(bram))
        assert flask.calls == 2 and not steps.connected(db, workshop)
        await asyncio.sleep(RECORD_EVERY + 1)  # the event loop writes them, in a thread, once

    asyncio.run(day())
    assert steps.connected(db, workshop) == {anna.participant_id, bram.participant_id}


def test_flask_behind_the_shortcut_leaves_presence_to_it_unless_it_lapsed(app, db, workshop):
    import datetime

    workshop, (anna, _), (url, _) = voting_room(app, db, workshop)
    front, flask = shortcut(app)

    def seen_ago(seconds):
        at = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds)
        db.execute("UPDATE participants SET last_seen = ? WHERE id = ?",
                   [at.isoformat(timespec="seconds"), anna.participant_id])
        db.conn.commit()
        return at.isoformat(timespec="seconds")

    def last_seen():
        return db.execute("SELECT last_seen FROM participants WHERE id = ?", [anna.participant_id]).fetchone()[0]

    # 12 s: the shortcut writes every 10 s for the pages it knows, so Flask behind it does not.
    before = seen_ago(PRESENCE_SECONDS + 2)
    get(front, url, headers_of(anna))
    assert flask.calls == 1 and last_seen() == before
    anna.get(url, headers={"HX-Request": "true"})  # without the shortcut, Flask writes at 10 s
    assert last_seen() > before
    # Half the connected window: a page the shortcut has not answered a while, so Flask writes.
    before = seen_ago(steps.CONNECTED_SECONDS / 2 + 1)
    get(shortcut(app)[0], url, headers_of(anna))
    assert last_seen() > before


def test_presence_that_could_not_be_written_is_written_at_the_next_poll(app, db, workshop, monkeypatch):
    import sqlite3

    workshop, (anna, _), (url, _) = voting_room(app, db, workshop)
    clock = Clock()
    front, flask = shortcut(app, clock)
    get(front, url, headers_of(anna))
    _away(db, anna.participant_id)
    clock.now += PRESENCE_SECONDS
    get(front, url, headers_of(anna))
    written = steps.mark_present

    def busy(*args):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(steps, "mark_present", busy)
    front.record_presence()
    monkeypatch.setattr(steps, "mark_present", written)
    assert anna.participant_id not in steps.connected(db, workshop)
    get(front, url, headers_of(anna))  # due again at once, not an interval later
    front.record_presence()
    assert anna.participant_id in steps.connected(db, workshop) and flask.calls == 1


def test_a_page_in_the_workshops_language_follows_a_change_of_it(app, db, workshop):
    workshop, (anna, bram), urls = voting_room(app, db, workshop)
    front, flask = shortcut(app)
    for browser, url in zip((anna, bram), urls):
        assert get(front, url, headers_of(browser))[0] == 204
    db.execute("UPDATE workshops SET language = 'en' WHERE id = ?", [workshop["id"]])
    db.conn.commit()
    item = workshops.items(db, workshop, ("driver",))[0]
    anna.post(f"/w/{workshop['code']}/items/{item['id']}/dots", {"dots": "1"}, htmx=True)
    for browser, url in zip((anna, bram), urls):
        status, _, body = get(front, url, headers_of(browser))
        assert status == 200 and "Total: 1" in body, body[:300]


def test_a_room_voting_fast_is_rendered_at_most_once_a_second(app, db, workshop):
    workshop, (anna, bram, cas), urls = voting_room(app, db, workshop, ("Anna", "Bram", "Cas"))
    clock = Clock()
    front, flask = shortcut(app, clock)
    for browser, url in zip((anna, bram, cas), urls):
        get(front, url, headers_of(browser))
    first, second = workshops.items(db, workshop, ("driver",))[:2]
    vote_url = f"/w/{workshop['code']}/items/%d/dots"
    anna.post(vote_url % first["id"], {"dots": "1"}, htmx=True)
    calls = flask.calls
    _, _, rendered = get(front, urls[1], headers_of(bram))  # Flask renders the room once
    assert flask.calls == calls + 1
    anna.post(vote_url % second["id"], {"dots": "1"}, htmx=True)  # and the room moves on at once
    clock.now += FRESH_SECONDS / 2
    status, _, body = get(front, urls[2], headers_of(cas))
    assert (status, body) == (200, rendered) and flask.calls == calls + 1  # the update of half a second ago
    assert get(front, poll_url(rendered), headers_of(bram))[0] == 204 and flask.calls == calls + 1
    clock.now += FRESH_SECONDS / 2
    status, _, newest = get(front, poll_url(rendered), headers_of(cas))  # a second old: Flask renders again
    assert status == 200 and flask.calls == calls + 2
    assert revision_in(poll_url(newest)) == workshops.get(db, workshop["id"])["revision"] > revision_in(poll_url(rendered))


def test_what_a_page_shows_of_the_room_moves_its_revision_with_it(app, db, workshop):
    """A comment's answer shows the room as it is now, so the page's poller asks from there: nothing older follows."""
    workshop, (anna, bram), urls = voting_room(app, db, workshop)
    front, flask = shortcut(app)
    assert get(front, urls[0], headers_of(anna))[0] == 204  # Anna's page is known to the shortcut
    item = workshops.items(db, workshop, ("driver",))[0]
    bram.post(f"/w/{workshop['code']}/items/{item['id']}/dots", {"dots": "1"}, htmx=True)
    kept = get(front, urls[1], headers_of(bram))[2]  # the room's update, fresh for a second
    answer = anna.post(f"/w/{workshop['code']}/items/{item['id']}/comments", {"body": "Eerst de scholen"},
                       htmx=True).get_data(as_text=True)
    now = workshops.get(db, workshop["id"])["revision"]
    moved = re.search(r'<div id="live" [^>]*hx-swap-oob="true"', answer)
    assert moved and f"rev={now}&amp;" in moved.group(0)
    assert "Eerst de scholen" in answer
    bram.post(f"/w/{workshop['code']}/items/{item['id']}/dots", {"dots": "2"}, htmx=True)
    status, _, body = get(front, poll_url(moved.group(0)), headers_of(anna))
    assert status == 200 and body != kept and "Eerst de scholen" in body  # never the update from before the comment
    done = anna.post(f"/w/{workshop['code']}/done", {"done": "1"}, htmx=True).get_data(as_text=True)
    assert f"rev={workshops.get(db, workshop['id'])['revision']}&amp;" in done
    # A full page carries one poller, not a moved one as well
    page = anna.get(f"/w/{workshop['code']}").get_data(as_text=True)
    assert page.count('id="live"') == 1 and "hx-swap-oob" not in re.search(r'<div id="live"[^>]*>', page).group(0)


def test_without_the_shortcut_flask_sends_no_grant(app, db, workshop):
    """Outside `toolkit serve` (tests, the development server) nothing meant for the shortcut reaches a browser."""
    workshop, (anna, _), (url, _) = voting_room(app, db, workshop)
    answer = anna.get(url, headers={"HX-Request": "true"})
    assert answer.status_code == 204
    assert not [name for name in answer.headers.keys() if name.lower().startswith("x-toolkit")]


def test_a_grant_cannot_be_sent_by_a_browser(app, db, workshop):
    workshop, (anna, _), (url, _) = voting_room(app, db, workshop)
    front, flask = shortcut(app)
    forged = headers_of(anna)[:2] + [(b"x-toolkit-grant", f"{workshop['id']} 1 x nl".encode())]
    for _ in range(3):
        assert get(front, url, forged)[1].get("hx-redirect") is None
    assert flask.calls == 3


# Mostly polls, as in a room; each of the others changes what a poll should be answered.
KINDS = ["poll"] * 4 + ["poll old"] * 2 + ["vote", "vote", "comment", "item", "remove", "step", "time"]
ACTIONS = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 2)), min_size=1, max_size=24)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=ACTIONS, fresh=st.sampled_from([0.0, FRESH_SECONDS]))
@example(actions=[("poll", 0), ("remove", 0), ("poll", 1)], fresh=0.0)  # the removed one's grant, an update kept
@example(actions=[("poll", 0), ("remove", 0), ("poll", 1)], fresh=FRESH_SECONDS)
@example(actions=[("item", 0), ("poll", 0), ("vote", 1), ("poll", 1), ("poll old", 2)], fresh=0.0)  # another shape
@example(actions=[("item", 0), ("poll", 0), ("vote", 1), ("poll", 1), ("poll old", 2)], fresh=FRESH_SECONDS)
def test_the_shortcut_never_answers_otherwise_than_flask(app, db, facilitator, actions, fresh):
    """Whatever happens in the room, an answer the shortcut gives is one Flask gives.

    Without freshness it is Flask's answer at that moment. With it, it may be Flask's answer from
    less than FRESH_SECONDS ago, but never one older than the page, and never to someone removed.
    """
    workshop = workshops.create(db, facilitator.account["id"], WORKSHOP_FORM)
    workshop, browsers, urls = voting_room(app, db, workshop, ("Anna", "Bram", "Cas"))
    first = list(urls)
    clock = Clock()
    front, flask = shortcut(app, clock, fresh)
    removed = set()

    def poll(who, url):
        calls = flask.calls
        status, _, body = get(front, url, headers_of(browsers[who]))
        if flask.calls == calls:  # answered by the shortcut
            assert who not in removed
            page, now = revision_in(url), workshops.get(db, workshop["id"])["revision"]
            expected = browsers[who].get(url, headers={"HX-Request": "true"})
            if status == 200 and revision_in(poll_url(body)) < now:
                assert fresh and revision_in(poll_url(body)) > page  # newer than the page, if not the newest
            elif status == 204 and page < now:
                assert fresh  # the page has the newest update rendered less than `fresh` ago
            else:  # Flask's answer now
                assert (status, body) == (expected.status_code, expected.get_data(as_text=True))
        if status == 200 and POLLER.search(body):
            urls[who] = poll_url(body)

    for action, who in actions:
        browser = browsers[who]
        code = workshop["code"]
        items = workshops.items(db, workshop, workshops.STEP_KINDS[workshop["step"]])
        if action == "poll":  # the whole room, starting with who
            for each in (who, (who + 1) % 3, (who + 2) % 3):
                poll(each, urls[each])
        elif action == "poll old":  # a page that missed every change so far
            poll(who, first[who])
        elif who in removed:
            continue
        elif action == "vote" and items:
            browser.post(f"/w/{code}/items/{items[0]['id']}/dots", {"dots": str(who + 1)}, htmx=True)
        elif action == "comment" and items:
            answer = browser.post(f"/w/{code}/items/{items[-1]['id']}/comments", {"body": f"Opmerking {who}"},
                                  htmx=True).get_data(as_text=True)
            if POLLER.search(answer):
                urls[who] = poll_url(answer)  # the page's poller moved with what the answer shows
        elif action == "item":
            browser.post(f"/w/{code}/items", {"title": f"Eigen punt {len(items)}", "explanation": ""})
        elif action == "remove":
            participants.remove(db, workshop, browser.participant_id)
            removed.add(who)
        elif action == "step":
            workshop = at_step(db, workshop, "barriers" if workshop["step"] == "drivers" else "drivers")
        elif action == "time":
            clock.now += 10
