"""Many participants voting at once on the real server: no lost, doubled or over-budget dots.

`toolkit serve` runs in a subprocess on a free loopback port with 8 threads. Every simulated
participant is its own browser (a standard-library opener with its own cookie jar). Because a
participant's own votes change only through its own requests, the test knows at every moment
what the server must answer and what the database must hold at the end.
"""
import http.cookiejar
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest

from toolkit import catalogue, vote
from toolkit import facilitator as facilitators
from toolkit import workshop as workshops
from toolkit.db import connect, migrate
from toolkit.participant import GROUP_KEYS

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
DOTS_LEFT = re.compile(r'id="dots-left"[^>]*>\D*(\d+)')
OVER_BUDGET = "Je hebt geen stippen meer."  # the refusal, in the workshop's language (nl)
BUDGET = 5
PARTICIPANTS = 30
CONCURRENT = 14
MOVES = 20
BURST_THREADS = 20
BURST_ROUNDS = 4
TIMEOUT = 10  # seconds for any one request
SEED = 20261201
FORM = {"title": "Gelijktijdig stemmen", "region": "Twente", "sector": "Maakindustrie",
        "date": "2026-12-01", "language": "nl", "dots": str(BUDGET)}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _AsIs(urllib.request.HTTPErrorProcessor):
    """Hand back every response as it came: no exception on 4xx/5xx, no following of 3xx."""

    def http_response(self, request, response):
        return response

    https_response = http_response


class Browser:
    """One participant's browser: its own cookies, talking to the loopback server only."""

    def __init__(self, base, jar=None):
        self.base = base
        self.jar = jar if jar is not None else http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),  # never via a proxy, whatever the environment says
            urllib.request.HTTPCookieProcessor(self.jar),
            _AsIs(),
        )

    def copy(self):
        """Another browser holding the same cookies as this one does now."""
        jar = http.cookiejar.CookieJar()
        for cookie in self.jar:
            jar.set_cookie(cookie)
        return Browser(self.base, jar)

    def send(self, method, path, data=None, htmx=False):
        body = None if data is None else urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(self.base + path, data=body, method=method)
        if htmx:
            request.add_header("HX-Request", "true")
        with self.opener.open(request, timeout=TIMEOUT) as response:
            return response.status, response.headers, response.read().decode()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The real server over a database prepared through the library, stopped afterwards."""
    tmp = tmp_path_factory.mktemp("concurrency")
    path = tmp / "c.db"
    db = connect(path)
    migrate(db)
    catalogue.load(db)
    account = facilitators.create(db, "fa@example.org", "Fa", "correct horse battery")
    room = workshops.create(db, account["id"], FORM)
    workshops.set_step(db, room["id"], "drivers")
    burst = workshops.create(db, account["id"], {**FORM, "title": "Burst"})
    workshops.set_step(db, burst["id"], "drivers")
    for n in range(BURST_THREADS - len(workshops.items(db, burst, kinds=("driver",)))):
        workshops.add_item(db, burst, {"kind": "driver", "title": f"Eigen drijfveer {n}"}, ("driver",))
    drivers = [i["id"] for i in workshops.items(db, room, kinds=("driver",))]
    burst_items = [i["id"] for i in workshops.items(db, burst, kinds=("driver",))]
    db.close()
    assert len(drivers) == 3 and len(burst_items) == BURST_THREADS

    port = _free_port()
    env = {**os.environ, "TOOLKIT_INSTANCE": str(tmp / "instance"), "TOOLKIT_DATABASE": str(path),
           "PYTHONUNBUFFERED": "1"}
    log_path = tmp / "server.log"
    log = open(log_path, "w")
    process = subprocess.Popen(
        [sys.executable, "-c", "from toolkit.cli import main; main()", "serve", "--port", str(port),
         "--threads", "8"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            assert process.poll() is None, f"server exited: {log_path.read_text()}"
            try:
                if Browser(base).send("GET", "/")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"server did not answer: {log_path.read_text()}"
            time.sleep(0.05)
        yield SimpleNamespace(base=base, db_path=path, room=room, drivers=drivers, burst=burst,
                              burst_items=burst_items, log=log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def _log_tail(server, lines=40):
    """The end of the server's output, to show with a failure (a 500's traceback is there)."""
    return "\n".join(server.log.read_text().splitlines()[-lines:])


class Record:
    """What every thread saw, gathered under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = Counter()
        self.errors = []

    def status(self, status):
        with self.lock:
            self.statuses[status] += 1

    def error(self, message):
        with self.lock:
            self.errors.append(message)


def _csrf(page):
    found = TOKEN.search(page)
    assert found, page[:500]
    return found.group(1)


def _join(server, code, index, record, rng, group):
    """A new browser that joined as participant index; returns it with a fresh CSRF token."""
    browser = Browser(server.base)
    status, _, page = browser.send("GET", f"/j/{code}")
    record.status(status)
    assert status == 200, (status, _log_tail(server))
    form = {"csrf_token": _csrf(page), "name": f"Deelnemer {index:02d}", "organisation": f"Org {index}",
            "stakeholder_group": group, "request_token": f"join-{code}-{index}"}
    if rng.random() < 0.3:
        # The first send's answer (and its cookie) is lost on the way back; the browser resends
        # the same form with its old cookie: still one participant.
        status, _, _ = browser.copy().send("POST", f"/j/{code}", form)
        record.status(status)
        assert status == 303, (status, _log_tail(server))
    status, headers, body = browser.send("POST", f"/j/{code}", form)
    record.status(status)
    assert status == 303, (status, body[:500], _log_tail(server))
    assert headers["Location"].endswith(f"/w/{code}")
    status, _, page = browser.send("GET", f"/w/{code}")
    record.status(status)
    assert status == 200, (status, _log_tail(server))
    browser.token = _csrf(page)
    return browser


def _vote(browser, code, item, dots, htmx, record):
    """POST dots on item; 'ack', 'refused' or an unexpected outcome (recorded as an error)."""
    status, headers, body = browser.send(
        "POST", f"/w/{code}/items/{item}/dots", {"csrf_token": browser.token, "dots": str(dots)}, htmx=htmx)
    record.status(status)
    if htmx and status == 200:
        return "ack", body
    if not htmx and status == 303 and headers["Location"].endswith(f"/w/{code}#item-{item}"):
        return "ack", body
    if status == 422 and OVER_BUDGET in body:
        return "refused", body
    record.error(f"dots={dots} on item {item} (htmx={htmx}): {status} {body[:300]!r}")
    return "error", body


def _double_click(browser, code, item, dots, htmx, record):
    """The same request twice at the same instant, as from a double click."""
    results = [None, None]
    start = threading.Barrier(2, timeout=TIMEOUT)

    def click(k):
        try:
            start.wait()
            results[k] = _vote(browser, code, item, dots, htmx, record)
        except Exception as error:  # a timeout or reset is a finding, not a crash of the test
            record.error(f"double click dots={dots} on {item}: {error!r}")
            results[k] = ("error", "")

    other = threading.Thread(target=click, args=(1,))
    other.start()
    click(0)
    other.join(TIMEOUT * 2)
    return results


def _participant(server, index, record):
    """Join, then make MOVES random moves; returns (name, last acknowledged dots per item)."""
    rng = random.Random(SEED + index)
    code = server.room["code"]
    browser = _join(server, code, index, record, rng, GROUP_KEYS[index % len(GROUP_KEYS)])
    htmx = index % 2 == 0  # half with htmx, half like a browser without JavaScript
    acked = dict.fromkeys(server.drivers, 0)
    for move in range(MOVES):
        item = rng.choice(server.drivers)
        dots = rng.randint(0, BUDGET)
        others = sum(acked.values()) - acked[item]
        expected = "ack" if dots <= acked[item] or others + dots <= BUDGET else "refused"
        roll = rng.random()
        if roll < 0.15:
            outcomes = _double_click(browser, code, item, dots, htmx, record)
        elif roll < 0.35:
            # Sent again right after the answer, as after a timeout that hid it.
            outcomes = [_vote(browser, code, item, dots, htmx, record),
                        _vote(browser, code, item, dots, htmx, record)]
        else:
            outcomes = [_vote(browser, code, item, dots, htmx, record)]
        kinds = {outcome for outcome, _ in outcomes}
        if kinds != {expected}:
            record.error(f"participant {index} move {move}: dots={dots} on {item} with "
                         f"{acked} expected {expected}, got {[o for o, _ in outcomes]}")
        if "ack" in kinds:
            acked[item] = dots
            if htmx:
                for outcome, body in outcomes:
                    left = DOTS_LEFT.search(body)
                    if outcome == "ack" and (not left or int(left.group(1)) != BUDGET - sum(acked.values())):
                        record.error(f"participant {index} move {move}: dots left shown "
                                     f"{left and left.group(1)}, expected {BUDGET - sum(acked.values())}")
    return f"Deelnemer {index:02d}", acked


def _stored(db, participant_ids, items):
    """Stored dots per (participant, item) of these participants; absent rows are 0, other items show up."""
    result = {(p, i): 0 for p in participant_ids for i in items}
    placeholders = ",".join("?" for _ in participant_ids)
    for row in db.query(f"SELECT participant_id, item_id, dots FROM votes WHERE participant_id IN ({placeholders})",
                        list(participant_ids)):
        key = (row["participant_id"], row["item_id"])
        if key in result:
            result[key] = row["dots"]
        else:
            result[key] = ("unexpected", row["dots"])
    return result


def test_thirty_participants_vote_at_once_and_every_acknowledged_dot_is_stored(server):
    record = Record()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        futures = [pool.submit(_participant, server, index, record) for index in range(PARTICIPANTS)]
        try:
            results = [future.result(timeout=60) for future in futures]
        except Exception:
            print(_log_tail(server))
            raise
    elapsed = time.monotonic() - started

    assert record.errors == [], "\n".join(record.errors[:20]) + "\n" + _log_tail(server)
    assert not [s for s in record.statuses if s >= 500], f"{record.statuses}\n{_log_tail(server)}"
    assert record.statuses[422] > 0 and (record.statuses[303] + record.statuses[200]) > 0, record.statuses

    db = connect(server.db_path)
    try:
        room = workshops.get(db, server.room["id"])
        people = {row["name"]: row for row in db.query(
            "SELECT * FROM participants WHERE workshop_id = ?", [room["id"]])}
        assert len(people) == PARTICIPANTS  # resent join forms added nobody
        expected = {}
        for name, acked in results:
            for item, dots in acked.items():
                expected[(people[name]["id"], item)] = dots
        stored = _stored(db, [p["id"] for p in people.values()], server.drivers)
        assert stored == expected
        for person in people.values():
            assert vote.dots_used(db, room, person["id"], "drivers") <= BUDGET
        tallies = vote.tallies(db, room)
        for item in server.drivers:
            tally = tallies.get(item, vote.empty_tally())
            assert tally["total"] == sum(dots for (_, i), dots in expected.items() if i == item)
            assert tally["voters"] == sum(1 for (_, i), dots in expected.items() if i == item and dots)
            by_group = dict.fromkeys(GROUP_KEYS, 0)
            for person in people.values():
                by_group[person["stakeholder_group"]] += expected[(person["id"], item)]
            assert tally["by_group"] == by_group
    finally:
        db.close()
    assert "Traceback" not in server.log.read_text(), _log_tail(server)
    print(f"\n{sum(record.statuses.values())} requests in {elapsed:.1f}s: {dict(record.statuses)}")


def test_a_burst_of_one_participants_votes_never_exceeds_the_budget(server):
    record = Record()
    code = server.burst["code"]
    rng = random.Random(SEED)
    browser = _join(server, code, 0, record, rng, "workers")
    acked = dict.fromkeys(server.burst_items, 0)
    db = connect(server.db_path)
    try:
        burst = workshops.get(db, server.burst["id"])
        me = db.execute("SELECT id FROM participants WHERE workshop_id = ?", [burst["id"]]).fetchone()[0]
        with ThreadPoolExecutor(max_workers=BURST_THREADS) as pool:
            for round_ in range(BURST_ROUNDS):
                start = threading.Barrier(BURST_THREADS, timeout=TIMEOUT)
                wanted = {item: rng.randint(0, 3) for item in server.burst_items}

                def post(item, htmx):
                    start.wait()
                    return item, _vote(browser, code, item, wanted[item], htmx, record)[0]

                futures = [pool.submit(post, item, k % 2 == 0) for k, item in enumerate(server.burst_items)]
                for future in futures:
                    item, outcome = future.result(timeout=TIMEOUT * 3)
                    if outcome == "ack":
                        acked[item] = wanted[item]
                assert record.errors == [], "\n".join(record.errors[:20]) + "\n" + _log_tail(server)
                assert sum(acked.values()) <= BUDGET, (round_, acked)
                assert _stored(db, [me], server.burst_items) == {(me, i): d for i, d in acked.items()}, round_
                assert vote.dots_used(db, burst, me, "drivers") == sum(acked.values()) <= BUDGET
        assert not [s for s in record.statuses if s >= 500], f"{record.statuses}\n{_log_tail(server)}"
        assert record.statuses[422] > 0, record.statuses  # the burst did run into the budget
    finally:
        db.close()
    assert "Traceback" not in server.log.read_text(), _log_tail(server)
