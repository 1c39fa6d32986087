"""Answers Flask gave to a participant's poll, given again without Flask while the room stands still.

Every open participant page asks every 1.5 s what changed (templates/shared/_poller.html). At a
national workshop day that is thousands of requests a second, and nearly all get one of two
answers: nothing (204), or the update the whole room shares at the new revision. Flask decides
both (`live` in toolkit/web/participant.py). When this shortcut is in front it says so in two
headers meant only for the shortcut, which takes them off: a grant (this browser is this
participant of this workshop, under this session key and language) and, on a shared update,
which revision, step and shape its bytes are for.

The shortcut gives the same answer to a request with the same headers (so the same cookie,
language and page) only after checking in SQLite that the participant is still in the workshop
under that key, and reading the workshop's revision and step as they are now. It records that
the participant's page is open, as Flask does, in one write a second for everyone due. Anything
else goes to Flask: another question, a changed room that no shared update covers, and every
browser once its grant is a minute old.

While a room votes with its results shown, every vote is a new revision, several a second in a
large room. Rendering each one for every server process would cost more than all the polls, so
the newest shared update rendered stays good for FRESH_SECONDS: a page older than it gets it,
a page at it hears that nothing changed. Once it is that old, one page's poll asks Flask for the
next, and the rest of the room keeps getting it until Flask answers: under load that may take
seconds, and the whole room asking Flask at once for the same update would make it longer. A
page never gets an update older than its own revision, and each fragment that shows the room
moves the page's revision with it (toolkit/web/views.py step_page), so nothing shown goes back.

Flask's answer to any page's poll names the browser it was for, so the shortcut answers that
page's next polls too, also after an update that was the page's own (new items, the room moved on).
"""
import asyncio
import re
import sqlite3
import time
from collections import OrderedDict
from typing import NamedTuple

from toolkit import participant as participants
from toolkit import step as steps
from toolkit.db import connect

# Set in the WSGI environ of every request that passed the shortcut: Flask grants only then.
IN_FRONT = "toolkit.poll_shortcut"
GRANT = b"x-toolkit-grant"
SHARED = b"x-toolkit-shared"
WORKSHOPS = "workshop"  # in a grant: the participant reads the workshop's language, whichever it is now
LIVE = re.compile(r"/w/[^/]+/live")
# Queries the pages make: nothing here needs decoding, so the shortcut reads them as Flask does.
PLAIN_QUERY = re.compile(rb"(?:[A-Za-z0-9_.-]+=[A-Za-z0-9_.-]*(?:&|$))*")
FRESH_SECONDS = 1.0  # how long the newest shared update may stand for a room that moved on since
GRANT_SECONDS = 60.0  # how long Flask's answer stands for one page, before Flask looks at it again
PRESENCE_SECONDS = steps.CONNECTED_SECONDS / 3  # as often as Flask writes that someone is present
RECORD_EVERY = 1.0  # presence due is written together, at most this long after it fell due
GRANTS_KEPT = 20_000  # a grant is keyed by its request headers: well under 1 KB each
SHARED_KEPT = 500  # a room, step, shape and language each: a day of 50 rooms keeps a few hundred
NOT_IN_A_204 = {b"content-length", b"content-type"}  # nor htmx's HX-* headers: they ask the page to act
REFRESH_SECONDS = 10.0  # how long one page's poll may be Flask's to render the room anew, before another's is


class Grant(NamedTuple):
    workshop: int
    participant: int
    session_key: str
    lang: str  # or WORKSHOPS
    until: float
    headers: list  # the answer's headers, less its length and type


class Refresh(NamedTuple):
    """Leave for one request to go to Flask for the room's next shared update."""
    shared: tuple  # the key of the update it is to replace
    since: float


class Shared(NamedTuple):
    revision: int
    made: float
    headers: list
    body: bytes


class PollShortcut:
    """ASGI app: app behind a shortcut for participants' polls of a room that has not changed for them."""

    def __init__(self, app, database: str, grant_seconds: float = GRANT_SECONDS, clock=time.monotonic,
                 fresh_seconds: float = FRESH_SECONDS):
        self.app = app
        self.database = database
        self.grant_seconds = grant_seconds
        self.fresh_seconds = fresh_seconds
        self.clock = clock
        self.grants: OrderedDict = OrderedDict()  # (path, scheme, headers) -> Grant
        # By the workshop's address as well as its id: a removed workshop's id may be given again.
        self.shared: OrderedDict = OrderedDict()  # (path, workshop, step, shape, lang) -> the newest Shared
        self.refreshing: dict = {}  # shared key -> when a page's poll went to Flask for the room's next update
        self.present: dict[int, float] = {}  # participant id -> when their presence was last written
        self.due: set[int] = set()  # participants whose presence is to be written next
        self._recording = False
        self._db = self._writer = None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET" or not LIVE.fullmatch(scope["path"]):
            await self.app(scope, receive, send)
            return
        key = (scope["path"], scope["scheme"], tuple(scope["headers"]))
        answer = self._answer(key, scope["query_string"])
        if answer is None or isinstance(answer, Refresh):
            try:
                await self.app(scope, receive, self._learning(key, send, answer))
            finally:
                # Flask answered with the room's next update or with something else (then _learning
                # forgot the old one), or failed: either way the room's next poll may ask again.
                if answer is not None and self.refreshing.get(answer.shared) == answer.since:
                    del self.refreshing[answer.shared]
            return
        status, headers, body = answer
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _answer(self, key, query_string: bytes):
        """Flask's answer to this request, when it is known; None when only Flask can tell."""
        grant = self.grants.get(key)
        if grant is None or not PLAIN_QUERY.fullmatch(query_string):
            return None
        if self.clock() >= grant.until:
            del self.grants[key]  # time for Flask to look at the session anew
            return None
        now = self._room_now(grant)
        if now is None:
            del self.grants[key]
            return None
        self._seen(grant.participant)
        revision, step, workshop_language = now
        query = {}
        for pair in query_string.decode().split("&"):
            name, _, value = pair.partition("=")
            query.setdefault(name, value)  # the first one counts, as in Flask's request.args
        if query.get("rev") == str(revision):
            return 204, grant.headers, b""
        if query.get("step") != step or not query.get("rev", "").isdigit():
            return None
        lang = workshop_language if grant.lang == WORKSHOPS else grant.lang
        shared = (key[0], grant.workshop, step, query.get("shape", ""), lang)
        found = self.shared.get(shared)
        if found is None or found.revision > revision:
            return None
        if found.revision != revision and self.clock() - found.made >= self.fresh_seconds:
            # One page's poll asks Flask for the room as it is now; while it waits (a busy server
            # may take seconds), the rest of the room is answered from the newest update there is,
            # rather than all of them asking Flask for the same one at once.
            asked, since = self.clock(), self.refreshing.get(shared)
            if since is None or asked - since >= REFRESH_SECONDS:
                self.refreshing[shared] = asked
                return Refresh(shared, asked)
        page = int(query["rev"])
        if page < found.revision:
            return 200, found.headers, found.body
        if page == found.revision:
            return 204, grant.headers, b""  # the page has the newest update there is to give
        return None  # a page newer than it: only Flask has that

    def _seen(self, participant: int) -> None:
        """Note that participant's page is open: written with everyone else's due within RECORD_EVERY."""
        now = self.clock()
        if now - self.present.get(participant, float("-inf")) < PRESENCE_SECONDS:
            return
        self.present[participant] = now
        self.due.add(participant)
        if not self._recording:
            self._recording = True
            asyncio.get_running_loop().call_later(RECORD_EVERY, self._record_due)

    def _record_due(self) -> None:
        self._recording = False
        due, self.due = self.due, set()
        # In a thread: a write may wait for another process's, and the event loop must not.
        asyncio.get_running_loop().run_in_executor(None, self.record_presence, due)

    def record_presence(self, participant_ids=None) -> None:
        """Write that these participants' pages are open (by default everyone due); on failure, try at their next poll."""
        if participant_ids is None:
            participant_ids, self.due = self.due, set()
        if not participant_ids:
            return
        try:
            if self._writer is None:
                self._writer = connect(self.database)
            steps.mark_present(self._writer, participant_ids)
        except sqlite3.Error:
            for participant in participant_ids:
                self.present.pop(participant, None)
        # Those no longer polling are forgotten; their next poll goes to Flask first anyway.
        if len(self.present) > GRANTS_KEPT:
            oldest = self.clock() - PRESENCE_SECONDS
            self.present = {who: at for who, at in list(self.present.items()) if at >= oldest}

    def _room_now(self, grant: Grant):
        try:
            if self._db is None:
                # Opened in the server process that uses it; reads in WAL never wait for writers,
                # and this one runs on the event loop, so it must not wait long for anything.
                self._db = connect(self.database)
                self._db.execute("PRAGMA busy_timeout=50")
                self._db.execute("PRAGMA query_only=ON")
            return participants.room_now(self._db, grant.workshop, grant.participant, grant.session_key)
        except sqlite3.Error:
            return None

    def _learning(self, key, send, refresh: "Refresh | None" = None):
        """send, taking the shortcut's headers off Flask's answer and learning from them."""
        sharing = {}

        async def learning(message):
            if message["type"] == "http.response.start":
                headers, granted, shared = [], None, None
                for name, value in message["headers"]:
                    if name == GRANT:
                        granted = value
                    elif name == SHARED:
                        shared = value
                    else:
                        headers.append((name, value))
                message = {**message, "headers": headers}
                grant = self._grant(key, granted, headers, message["status"])
                if grant is not None and shared is not None and message["status"] == 200:
                    revision, step, shape, lang = shared.decode().split(" ")
                    sharing.update(key=(key[0], grant.workshop, step, shape, lang), revision=int(revision),
                                   made=self.clock(), headers=headers, body=[])
                if refresh is not None and sharing.get("key") != refresh.shared:
                    # Not the room's next update for these pages (their items changed, the room moved
                    # on): the one kept is no longer theirs to be given; Flask answers them again.
                    kept = self.shared.get(refresh.shared)
                    if kept is not None and kept.made < refresh.since:
                        del self.shared[refresh.shared]
            elif message["type"] == "http.response.body" and sharing:
                sharing["body"].append(message.get("body", b""))
                if not message.get("more_body"):
                    known = self.shared.get(sharing["key"])
                    if known is None or known.revision < sharing["revision"]:
                        self._keep(self.shared, sharing["key"], Shared(sharing["revision"], sharing["made"],
                                                                       sharing["headers"], b"".join(sharing["body"])),
                                   SHARED_KEPT)
            await send(message)

        return learning

    def _grant(self, key, granted: bytes | None, headers: list, status: int) -> Grant | None:
        if granted is None or status not in (200, 204) or any(name == b"set-cookie" for name, _ in headers):
            self.grants.pop(key, None)
            return None
        workshop, participant, session_key, lang = granted.decode().split(" ")
        grant = Grant(int(workshop), int(participant), session_key, lang, self.clock() + self.grant_seconds,
                      [(name, value) for name, value in headers
                       if name not in NOT_IN_A_204 and not name.startswith(b"hx-")])
        # Flask's live view has just written this participant's presence, or did within PRESENCE_SECONDS.
        self.present[grant.participant] = self.clock()
        self._keep(self.grants, key, grant, GRANTS_KEPT)
        return grant

    @staticmethod
    def _keep(kept: OrderedDict, key, value, most: int) -> None:
        kept[key] = value
        kept.move_to_end(key)
        while len(kept) > most:
            kept.popitem(last=False)
