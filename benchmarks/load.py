"""A workshop day on one server: W workshops x P participants against a real `toolkit serve`.

Every participant joins, polls for changes at the pages' own interval (1.5 s), spends dots,
adds an item and a comment; a facilitator per workshop shows the results live, moves the room
on and exports the agenda. The same load generator then runs against a minimal Flask app on the same server
software (one small template on GET, one SQLite insert on POST), so every figure can be read
as a ratio to what this machine can do at all.

Run: .venv/bin/python -m benchmarks.load                 (50 workshops x 60 people, 60 s)
     .venv/bin/python -m benchmarks.load --pace workshop --seconds 120   (a vote a minute each)
     .venv/bin/python -m benchmarks.load --quick         (2 x 5, a few seconds: a smoke run)
"""
import argparse
import asyncio
import gc
import gzip
import html
import os
import platform
import random
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import brotli

from benchmarks.phone import ERRORS, Phone

POLL_SECONDS = 1.5  # as templates/shared/_poller.html asks
PASSWORD = "load test password"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# The page's own poller: htmx asks exactly this address, which names the revision and the shape.
POLLER = re.compile(r'id="live" hx-get="([^"]+)"')
ITEM = re.compile(r"/items/(\d+)/dots")
STEPS = ("drivers", "barriers", "recommendations")
BUDGET = 5  # dots per step in every workshop prepare() makes


class Pace(NamedTuple):
    """How often people act, beside polling at the pages' own interval (seconds, or a chance per poll)."""
    first_vote: tuple[float, float]  # after the page loaded
    vote_every: tuple[float, float]
    add_item: float  # each person adds at most one item and one comment
    comment: float
    move_on: tuple[float, float] | None  # when each room moves on, as parts of the run; None: nor exports


PACES = {
    # The whole day pressed into a minute: everyone votes every 5 to 15 s, half the people add an
    # item within the minute, and all rooms move on within the same fifth of the run.
    "stress": Pace((1, 4), (5, 15), 0.02, 0.02, (0.4, 0.6)),
    # A room as docs/PRODUCT.md describes it, still brisk: a voting step of 10 to 20 minutes with 5
    # dots, one dot moved per click, is a click every one to four minutes; here one every 30 to
    # 90 s. A few new items and comments a minute in each room; rooms move on at their own times.
    "workshop": Pace((5, 30), (30, 90), 0.001, 0.002, (0.3, 0.8)),
    # Pages open, polling, and nobody acting: what polling alone costs.
    "idle": Pace((1e9, 1e9), (1e9, 1e9), 0, 0, None),
}


class Stats:
    """Latencies and outcomes per kind of request."""

    def __init__(self):
        self.latency = defaultdict(list)
        # The same, for requests sent once every page is polling: the rooms voting, not arriving.
        # Arrivals leave the server a queue to work off, so that moment is measured, not assumed.
        self.started = time.monotonic()
        self.settled_at = float("inf")
        self.arriving = 0
        self.join_window = 0.0  # the seconds over which people arrive
        self.settled = defaultdict(list)
        self.errors = defaultdict(int)
        self.failures = defaultdict(int)  # what a request that got no answer failed with
        self.refused = defaultdict(int)
        self.bytes = defaultdict(int)
        self.propagation = []
        self.settled_propagation = []
        self.votes_sent = 0
        self.votes_acked = 0

    def arrived(self):
        """One more person's page is polling (or they gave up joining); once all are, the run has settled."""
        self.arriving -= 1
        if self.arriving == 0:
            self.settled_at = time.monotonic()

    def add(self, kind: str, seconds: float, status: int, size: int):
        self.latency[kind].append(seconds)
        if time.monotonic() - seconds >= self.settled_at:
            self.settled[kind].append(seconds)
        self.bytes[kind] += size
        if status >= 500 or status == 0:
            self.errors[kind] += 1
        elif status >= 400:
            self.refused[kind] += 1  # a 4xx with a message: over budget, or the room moved on


def say(message: str):
    """Progress on stderr, so a long run shows where it is."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_tree(pid: int) -> list[int]:
    """pid and every process below it: the server processes and their drawing processes."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(_stat(int(entry.name))[1])
            except (OSError, IndexError, ValueError):
                pass  # ended while we looked
    tree, added = [pid], True
    while added:
        below = [child for child, parent in parents.items() if parent in tree and child not in tree]
        tree += below
        added = bool(below)
    return tree


def cpu_seconds(pid: int) -> float:
    """User and system CPU time pid and the processes below it have used so far."""
    total = 0.0
    for each in process_tree(pid):
        try:
            fields = _stat(each)
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen, log: Path):
    for _ in range(200):
        if process.poll() is not None:
            raise SystemExit(f"the server stopped: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the server did not start")


def peak_memory_mb(pid: int) -> float:
    """The peak resident memory (VmHWM) of pid and the processes below it, added up, in MB."""
    total = 0.0
    for each in process_tree(pid):
        try:
            lines = Path(f"/proc/{each}/status").read_text().splitlines()
        except OSError:
            continue
        total += sum(int(line.split()[1]) / 1024 for line in lines if line.startswith("VmHWM:"))
    return total


def prepare(folder: Path, workshops: int) -> tuple[dict, list[str]]:
    """A fresh database with one facilitator and W workshops at the drivers step."""
    from toolkit import catalogue
    from toolkit import facilitator as facilitators
    from toolkit import workshop as workshop_module
    from toolkit.db import connect, migrate

    database = folder / "load.db"
    env = {**os.environ, "TOOLKIT_DATABASE": str(database), "TOOLKIT_INSTANCE": str(folder / "instance")}
    db = connect(database)
    migrate(db)
    catalogue.load(db)
    facilitators.create(db, "load@example.org", "Load", PASSWORD)
    account = facilitators.by_email(db, "load@example.org")
    codes = []
    for i in range(workshops):
        made = workshop_module.create(db, account["id"], {
            "title": f"Workshop {i}", "region": "Regio", "sector": "Maakindustrie",
            "date": "2026-12-01", "language": "nl", "dots": "5"})
        workshop_module.set_step(db, made["id"], "drivers")
        codes.append(made["code"])
    db.close()
    return env, codes


def poll_kind(status: int) -> str:
    """A poll is counted by its answer: something changed (200) or nothing did."""
    return "poll (change)" if status == 200 else "poll (idle)"


async def timed(stats: Stats, kind, phone: Phone, method: str, url: str, **kwargs):
    """One request, recorded under kind (or kind(status)); returns (status, text, answer), or (0, "", None)."""
    name = (lambda status: kind) if isinstance(kind, str) else kind
    start = time.perf_counter()
    try:
        answer = await phone.request(method, url, **kwargs)
    except ERRORS as error:
        stats.add(name(0), time.perf_counter() - start, 0, 0)
        stats.failures[f"{type(error).__name__} {error}".strip()[:80]] += 1
        return 0, "", None
    stats.add(name(answer.status), time.perf_counter() - start, answer.status, len(answer.body))
    return answer.status, answer.body.decode("utf-8", "replace"), answer


class Room:
    """What the load generator knows of one workshop: votes acknowledged, not yet seen by the observer."""

    def __init__(self, code: str):
        self.code = code
        self.pending: list[float] = []  # ack times of votes the observer has not seen change yet
        self.expected: dict[tuple[str, int], int] = {}  # (participant, item) -> dots acknowledged
        self.watched = False  # whether the observer's page is open yet: before, nobody can see a vote


async def participant(base, stats, room, index, stop_at, observer, venue, join_window, pace):
    """One person on their phone: join, then poll, vote, add an item and comment until stop_at."""
    # People arrive over the first minutes, not all in the same millisecond.
    await asyncio.sleep(random.uniform(0, join_window))
    counted = False

    def arrived():
        nonlocal counted
        if not counted:
            counted = True
            stats.arrived()

    try:
        await _participate(Phone.of(base, local_address=venue), stats, room, index, stop_at, observer, pace,
                           arrived)
    finally:
        arrived()  # also when joining failed: the run must not wait for them to settle


async def _participate(phone, stats, room, index, stop_at, observer, pace, arrived):
    try:
        status, page, _ = await timed(stats, "join page", phone, "GET", f"/j/{room.code}")
        if status != 200:
            return
        status, _, _ = await timed(stats, "join", phone, "POST", f"/j/{room.code}", data={
            "name": f"P{index}", "organisation": f"Org {index % 17}",
            "stakeholder_group": ("companies", "education", "government", "workers", "other")[index % 5],
            "request_token": f"join-{index}", "csrf_token": CSRF.search(page).group(1)})
        if status != 303:
            return
        status, page, _ = await timed(stats, "step page", phone, "GET", f"/w/{room.code}")
        if status != 200:
            return
        token = CSRF.search(page).group(1)  # a new session after joining, with its own token
        headers = {"HX-Request": "true", "X-CSRFToken": token}
        poll = poll_url(page) or f"/w/{room.code}/live?rev=0&step=drivers"
        step = "drivers"
        items = [int(i) for i in dict.fromkeys(ITEM.findall(page))]
        person = f"P{index}"
        next_vote = time.monotonic() + random.uniform(*pace.first_vote)
        added = commented = False
        await asyncio.sleep(random.uniform(0, POLL_SECONDS))
        if observer:
            room.watched = True
        while time.monotonic() < stop_at:
            sent = time.monotonic()
            status, body, answer = await timed(stats, poll_kind, phone, "GET", poll, headers=headers)
            arrived()
            if status == 200:
                found = poll_url(body)
                # The page reloads itself when the room moved on (static/toolkit.js).
                if answer.headers.get("hx-trigger") == "room-moved" or found is None:
                    status, page, _ = await timed(stats, "step page", phone, "GET", f"/w/{room.code}")
                    found = poll_url(page)
                    step = re.search(r"[?&;]step=([a-z]+)", found).group(1) if found else step
                    items = [int(i) for i in dict.fromkeys(ITEM.findall(page))] or items
                poll = found or poll
                if observer:
                    now = time.monotonic()
                    seen = [t for t in room.pending if t < sent]
                    stats.propagation += [now - t for t in seen]
                    stats.settled_propagation += [now - t for t in seen if t >= stats.settled_at]
                    room.pending = [t for t in room.pending if t >= sent]
            if time.monotonic() >= next_vote and items:
                # Only what the page allows: its "+" is disabled once the step's dots are spent.
                item = random.choice(items)
                mine = room.expected.get((person, item), 0)
                left = BUDGET - sum(room.expected.get((person, i), 0) for i in items)
                dots = random.randint(0, min(2, mine + left))
                stats.votes_sent += 1
                status, _, _ = await timed(stats, "vote", phone, "POST", f"/w/{room.code}/items/{item}/dots",
                                                data={"dots": dots, "csrf_token": token}, headers=headers)
                if status == 200:
                    stats.votes_acked += 1
                    if room.watched and room.expected.get((person, item), 0) != dots:
                        # Only a vote that changed something can be seen changing on another phone.
                        room.pending.append(time.monotonic())
                    room.expected[(person, item)] = dots
                next_vote = time.monotonic() + random.uniform(*pace.vote_every)
            elif not added and random.random() < pace.add_item and step in STEPS:
                added = True
                await timed(stats, "add item", phone, "POST", f"/w/{room.code}/items",
                            data={"kind": "driver" if step == "drivers" else "barrier", "title": f"Eigen punt {index}",
                                  "explanation": "", "request_token": f"item-{index}", "csrf_token": token})
            elif not commented and random.random() < pace.comment and items:
                commented = True
                await timed(stats, "comment", phone, "POST", f"/w/{room.code}/items/{items[0]}/comments",
                            data={"body": f"Opmerking van P{index}", "request_token": f"c-{index}",
                                  "csrf_token": token}, headers=headers)
            await asyncio.sleep(max(0.0, POLL_SECONDS - (time.monotonic() - sent)))
    finally:
        phone.close()


async def facilitate(base, stats, room, stop_at, venue, seconds, pace):
    """The facilitator: logs in, shows the results, moves the room on when the pace says, exports near the end."""
    phone = Phone.of(base, local_address=venue, timeout=60)
    try:
        _, page, _ = await timed(stats, "login page", phone, "GET", "/login")
        if not CSRF.search(page):
            return
        await timed(stats, "login", phone, "POST", "/login", data={
            "email": "load@example.org", "password": PASSWORD, "csrf_token": CSRF.search(page).group(1)})
        _, page, _ = await timed(stats, "facilitator page", phone, "GET", f"/facilitator/workshops/{room.code}")
        if not CSRF.search(page):
            return
        token = CSRF.search(page).group(1)
        # Results shown while the room votes: every vote then changes what every phone shows.
        await timed(stats, "step settings", phone, "POST", f"/facilitator/workshops/{room.code}/steps/drivers",
                    data={"change": "reveal", "csrf_token": token})
        if pace.move_on is None:
            return
        await asyncio.sleep(max(0.0, stop_at - seconds * (1 - random.uniform(*pace.move_on)) - time.monotonic()))
        await timed(stats, "step change", phone, "POST", f"/facilitator/workshops/{room.code}/step",
                    data={"step": "barriers", "csrf_token": token})
        await timed(stats, "step settings", phone, "POST", f"/facilitator/workshops/{room.code}/steps/barriers",
                    data={"change": "reveal", "csrf_token": token})
        await asyncio.sleep(max(0.0, stop_at - time.monotonic() - seconds * 0.15))
        await timed(stats, "export", phone, "POST", f"/facilitator/workshops/{room.code}/drafts",
                    data={"csrf_token": token})
    finally:
        phone.close()


def poll_url(text: str) -> str | None:
    """The address the page's poller asks next, as htmx reads it from the page."""
    found = POLLER.search(text)
    return html.unescape(found.group(1)) if found else None


def percentiles(values: list[float]) -> tuple[float, float, float]:
    """p50, p95 and p99 in milliseconds."""
    if not values:
        return (float("nan"),) * 3
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return pick(0.50), pick(0.95), pick(0.99)


def venue_address(number: int) -> str:
    """A loopback address of its own for each workshop's venue, as its phones share one network."""
    return f"127.0.{1 + number // 250}.{1 + number % 250}"


async def run_toolkit(base, codes, people, seconds, arrival, pace) -> tuple[Stats, list[Room]]:
    stats = Stats()
    rooms = [Room(code) for code in codes]
    # Each venue's phones reach the server from the venue's own address, as they would through
    # its router: the server's per-client join limits then apply as they do on a real day.
    # A connection of its own for each phone and facilitator, as their browsers have (benchmarks/phone.py).
    stop_at = time.monotonic() + seconds
    join_window = arrival if arrival is not None else min(30.0, seconds / 4)
    stats.started, stats.arriving, stats.join_window = time.monotonic(), len(rooms) * people, join_window
    tasks = []
    for number, room in enumerate(rooms):
        venue = venue_address(number)
        tasks.append(facilitate(base, stats, room, stop_at, venue, seconds, pace))
        for i in range(people):
            tasks.append(participant(base, stats, room, i, stop_at, i == 0, venue, join_window, pace))
    await asyncio.gather(*tasks)
    return stats, rooms


async def run_baseline(base, clients, seconds, pace) -> Stats:
    """The same pattern against the minimal app: a GET at the poll interval, now and then an insert."""
    stats = Stats()
    stop_at = time.monotonic() + seconds

    async def client(index):
        phone = Phone.of(base)
        try:
            next_insert = time.monotonic() + random.uniform(*pace.first_vote)
            await asyncio.sleep(random.uniform(0, POLL_SECONDS))
            while time.monotonic() < stop_at:
                sent = time.monotonic()
                await timed(stats, "GET", phone, "GET", "/")
                if time.monotonic() >= next_insert:
                    await timed(stats, "POST insert", phone, "POST", "/insert", data={"value": str(index)})
                    next_insert = time.monotonic() + random.uniform(*pace.vote_every)
                await asyncio.sleep(max(0.0, POLL_SECONDS - (time.monotonic() - sent)))
        finally:
            phone.close()

    await asyncio.gather(*(client(i) for i in range(clients)))
    return stats


def stored_votes_match(database: Path, rooms: list[Room]) -> tuple[int, int]:
    """How many acknowledged end states are stored exactly, out of how many."""
    db = sqlite3.connect(database)
    stored = {
        (code, name, item): dots
        for code, name, item, dots in db.execute(
            "SELECT w.code, p.name, v.item_id, v.dots FROM votes v JOIN participants p ON p.id = v.participant_id "
            "JOIN workshops w ON w.id = p.workshop_id")
    }
    db.close()
    total = matching = 0
    for room in rooms:
        for (name, item), dots in room.expected.items():
            total += 1
            matching += stored.get((room.code, name, item), 0) == dots
    return matching, total


def idle_figures(base: str, code: str, folder: Path, env: dict) -> tuple[int, int, int, tuple[float, float], dict]:
    """What the idle server shows: bytes on the wire for a participant's first visit (as served), all
    of it gzipped, and one idle update; what an idle update costs; a vote and other POSTs one at a time."""
    import http.cookiejar
    import urllib.request

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/j/{code}", timeout=30).read().decode()
    token = CSRF.search(page).group(1)
    data = urllib.parse.urlencode({"name": "Weight", "organisation": "Org", "stakeholder_group": "other",
                                   "csrf_token": token}).encode()
    opener.open(f"{base}/j/{code}", data=data, timeout=30)
    first_page = opener.open(f"{base}/w/{code}", timeout=30).read()
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', first_page.decode())
    # As a browser asks: compressed where the server compresses, counted as it travels.
    served, compressed = len(first_page), len(gzip.compress(first_page))
    for path in dict.fromkeys(assets):
        answer = opener.open(urllib.request.Request(base + path, headers={"Accept-Encoding": "br, gzip"}),
                             timeout=30)
        wire = answer.read()
        encoding = answer.headers.get("Content-Encoding")
        plain = brotli.decompress(wire) if encoding == "br" else gzip.decompress(wire) if encoding == "gzip" else wire
        served += len(wire)
        compressed += len(gzip.compress(plain))
    idle = opener.open(urllib.request.Request(base + poll_url(first_page.decode()),
                                              headers={"HX-Request": "true"}), timeout=30)
    head = sum(len(k) + len(v) + 4 for k, v in idle.getheaders()) + len("HTTP/1.1 204 No Content\r\n\r\n")
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    page = first_page.decode()
    token = CSRF.search(page).group(1)
    vote = f"/w/{code}/items/{ITEM.search(page).group(1)}/dots"
    weight = (served, compressed, head + len(idle.read()), idle_poll_cost(base, poll_url(page), cookie))
    with baselines(folder, env) as (plain, guarded):
        guarded_token, guarded_cookie = guarded_session(guarded)
        return *weight, interleaved({
            "vote": lambda: one_at_a_time(base, vote, token, cookie),
            # The least any form of the app costs: the session read and the CSRF token checked,
            # nothing chosen (no language given), sent back to the page.
            "form": lambda: one_at_a_time(base, "/language", token, cookie),
            "insert": lambda: one_at_a_time(plain, "/insert"),
            "guarded insert": lambda: one_at_a_time(guarded, "/insert", guarded_token, guarded_cookie),
        })


@contextmanager
def baselines(folder: Path, env: dict):
    """The baseline and the guarded baseline served beside the toolkit, idle, while the block runs."""
    started = []
    try:
        for name, options in (("baseline", []), ("guarded", ["--guarded"])):
            started.append(serve([sys.executable, "-m", "benchmarks.baseline", *options],
                                 {**env, "BASELINE_DATABASE": str(folder / f"{name}-alone.db")},
                                 folder / f"{name}-alone.log"))
        for server, _port in started:
            settled(server.pid)
        yield [f"http://127.0.0.1:{port}" for _server, port in started]
    finally:
        for server, _port in started:
            server.terminate()
            server.wait(timeout=30)


def interleaved(cases: dict, rounds: int = 10) -> dict:
    """p50 in ms of each case's requests, the cases taking turns round by round.

    Measured one after another, each would meet the machine in another mood: on a shared machine
    that alone moved the ratio of a vote to the insert from 2.4 to 5 times.
    """
    took = {label: [] for label in cases}
    for _ in range(rounds):
        for label, case in cases.items():
            took[label] += case()
    return {label: percentiles(values)[0] for label, values in took.items()}


def one_at_a_time(base: str, path: str, token: str = "", cookie: str = "", times: int = 50) -> list[float]:
    """Seconds each POST to path took on the idle server, one after another over one connection: a
    vote as a page sends it (a dot given, taken back), another form, or the baseline's insert."""
    import http.client
    import urllib.parse

    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Cookie": cookie, "HX-Request": "true", "X-CSRFToken": token,
               "Content-Type": "application/x-www-form-urlencoded"}
    took = []
    for n in range(times):
        body = urllib.parse.urlencode({"dots": n % 2, "value": n, "csrf_token": token})
        start = time.perf_counter()
        connection.request("POST", path, body=body, headers=headers)
        answer = connection.getresponse()
        answer.read()
        took.append(time.perf_counter() - start)
        if answer.status >= 400:
            raise SystemExit(f"{path} answered {answer.status} on the idle server")
    connection.close()
    return took


def guarded_session(base: str) -> tuple[str, str]:
    """A CSRF token from the guarded baseline, and the session cookie that goes with it."""
    import urllib.request

    answer = urllib.request.urlopen(f"{base}/token", timeout=30)
    return answer.read().decode(), answer.headers["Set-Cookie"].split(";")[0]


def idle_poll_cost(base: str, url: str, cookie: str, times: int = 300) -> tuple[float, float]:
    """p50 in ms of an idle poll over one connection: repeated as a page does (the poll shortcut
    answers), and with a header that differs each time (so Flask answers every one)."""
    import http.client
    import urllib.parse

    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)

    def once(extra: dict) -> float:
        start = time.perf_counter()
        connection.request("GET", url, headers={"Cookie": cookie, "HX-Request": "true", **extra})
        connection.getresponse().read()
        return time.perf_counter() - start

    repeated = [once({}) for _ in range(times)][1:]  # the first one asks Flask
    each_new = [once({"X-Probe": str(n)}) for n in range(times)]
    connection.close()
    return percentiles(repeated)[0], percentiles(each_new)[0]


def serve(command, env, log: Path) -> tuple[subprocess.Popen, int]:
    """The server on a free port, its output going to log.

    Into a file, never an unread pipe: once a pipe's buffer is full, the server's next log line
    (a warning under load) blocks its event loop, and every request stalls.
    """
    port = _free_port()
    with log.open("w") as out:
        process = subprocess.Popen(command + ["--port", str(port)], env=env, stdout=out,
                                   stderr=subprocess.STDOUT, text=True)
    _wait_for(port, process, log)
    return process, port


def settled(pid: int, most: float = 30.0):
    """Wait until pid and its processes are idle: the drawing processes import matplotlib as the
    server starts, and the idle server's figures must not share the cores with that."""
    until = time.monotonic() + most
    while time.monotonic() < until:
        before = cpu_seconds(pid)
        time.sleep(0.5)
        if cpu_seconds(pid) - before < 0.02:
            return


def measured(command, env, log: Path, load, idle=lambda base: None):
    """Serve command, call idle(base) on the idle server, then load(base) while measuring.

    Returns what idle and load returned, the server's peak memory, the CPU seconds of the
    server and of this generator during load.
    """
    server, port = serve(command, env, log)
    base = f"http://127.0.0.1:{port}"
    try:
        settled(server.pid)
        before = idle(base)
        say("running the load")
        started, generator = cpu_seconds(server.pid), time.process_time()
        result = load(base)
        memory = peak_memory_mb(server.pid)
        cpu = (cpu_seconds(server.pid) - started, time.process_time() - generator)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return before, result, memory, cpu


def run(coroutine):
    """Run coroutine on uvloop where it exists, as the server does: the generator shares the server's
    cores, and the less of them it takes, the more the figures are the server's own."""
    # No garbage collection while measuring. Its full walks of 3,000 people's coroutines and
    # sessions stalled this process for 100 to 800 ms, a few times a minute: every answer
    # waiting then was timed that much late. At 3,000 people polling and nothing else, polls
    # measured 64 ms at p50 and 378 ms at p95 with it, and 1.2 ms and 13 ms without; the
    # generator's memory stayed near 300 MB over two minutes.
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workshops", type=int, default=50)
    parser.add_argument("--participants", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--arrival", type=float, default=None,
                        help="seconds over which people arrive and join; by default a quarter of the run, "
                             "at most 30 s")
    parser.add_argument("--pace", choices=PACES, default="stress",
                        help="stress: everyone votes every 5 to 15 s and all rooms move on together (the default); "
                             "workshop: a vote every 30 to 90 s, rooms moving on at their own times; "
                             "idle: pages polling, nobody acting")
    parser.add_argument("--quick", action="store_true", help="2 workshops x 5 people for 6 s")
    args = parser.parse_args()
    if args.quick:
        args.workshops, args.participants, args.seconds = 2, 5, 6
    random.seed(1)
    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores; "
          f"{args.workshops} workshops x {args.participants} participants for {args.seconds:.0f} s at {args.pace} pace")
    with tempfile.TemporaryDirectory() as folder:
        say("preparing the database")
        env, codes = prepare(Path(folder), args.workshops)
        say("starting toolkit serve")
        # Page weight and the one-at-a-time figures are measured on the idle server first.
        weight, (stats, rooms), memory, cpu = measured(
            [sys.executable, "-c", "from toolkit.cli import main; main()", "serve"], env,
            Path(folder) / "toolkit.log",
            lambda base: run(run_toolkit(base, codes, args.participants, args.seconds, args.arrival, PACES[args.pace])),
            idle=lambda base: idle_figures(base, codes[0], Path(folder), env))
        matching, total = stored_votes_match(Path(folder) / "load.db", rooms)

        say("running the baseline")
        _, base_stats, base_memory, base_cpu = measured(
            [sys.executable, "-m", "benchmarks.baseline"],
            {**env, "BASELINE_DATABASE": str(Path(folder) / "baseline.db")}, Path(folder) / "baseline.log",
            lambda base: run(run_baseline(base, args.workshops * args.participants, args.seconds, PACES[args.pace])))

    print("\n| request | count | per second | p50 | p95 | p99 | refused (4xx) | errors |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, source in (("toolkit", stats), ("baseline", base_stats)):
        for kind in sorted(source.latency):
            values = source.latency[kind]
            p50, p95, p99 = percentiles(values)
            print(f"| {label}: {kind} | {len(values)} | {len(values) / args.seconds:.1f} | {p50:.1f} ms | "
                  f"{p95:.1f} ms | {p99:.1f} ms | {source.refused[kind]} | {source.errors[kind]} |")
    print(f"\nOnce every page is polling ({stats.settled_at - stats.started:.0f} s into the run; people arrived over "
          f"the first {stats.join_window:.0f} s):\n")
    print("| request | count | p50 | p95 | p99 |")
    print("| --- | --- | --- | --- | --- |")
    for kind in sorted(stats.settled):
        p50, p95, p99 = percentiles(stats.settled[kind])
        print(f"| toolkit: {kind} | {len(stats.settled[kind])} | {p50:.1f} ms | {p95:.1f} ms | {p99:.1f} ms |")
    for label, values in (("", stats.propagation), (", once every page is polling", stats.settled_propagation)):
        p50, p95, _ = percentiles(values)
        print(f"\npropagation{label} (vote acknowledged -> visible in another participant's next update): "
              f"p50 {p50 / 1000:.2f} s, p95 {p95 / 1000:.2f} s over {len(values)} votes")
    print(f"votes sent {stats.votes_sent}, acknowledged {stats.votes_acked}, "
          f"acknowledged end states stored exactly: {matching} of {total}")
    print(f"server peak memory: toolkit {memory:.0f} MB, baseline {base_memory:.0f} MB")
    for label, source, (server_cpu, generator_cpu) in (("toolkit", stats, cpu), ("baseline", base_stats, base_cpu)):
        requests = sum(len(values) for values in source.latency.values())
        print(f"CPU, {label}: server {server_cpu:.1f} s ({server_cpu / args.seconds:.0%} of a core, "
              f"{1000 * server_cpu / max(1, requests):.2f} ms a request), load generator {generator_cpu:.1f} s")
    served, compressed, idle, (repeated, each_new), alone = weight
    print(f"first visit: {served / 1024:.1f} KB as served, {compressed / 1024:.1f} KB gzipped; "
          f"one idle update: {idle} bytes with headers")
    print(f"an idle poll on the idle server, p50 over one connection: {repeated:.2f} ms as a page repeats it "
          f"(the poll shortcut answers), {each_new:.2f} ms when Flask answers")
    insert = alone["insert"]
    print(f"one at a time on the idle server, p50 over one connection, in {len(alone)} kinds taking turns: "
          f"a vote {alone['vote']:.2f} ms, the baseline's insert {insert:.2f} ms ({alone['vote'] / insert:.1f} "
          f"times); a form that only checks the session and its token {alone['form']:.2f} ms "
          f"({alone['form'] / insert:.1f} times); the baseline's insert behind Flask's signed session and "
          f"Flask-WTF's CSRF check {alone['guarded insert']:.2f} ms ({alone['guarded insert'] / insert:.1f} times)")
    for label, source in (("toolkit", stats), ("baseline", base_stats)):
        for failure, count in sorted(source.failures.items()):
            print(f"no answer, {label}: {count} x {failure}")
    errors = sum(stats.errors.values()) + sum(base_stats.errors.values())
    if errors or matching != total:
        raise SystemExit(f"{errors} errors; {total - matching} acknowledged votes not stored as acknowledged")


if __name__ == "__main__":
    main()
