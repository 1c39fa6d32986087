"""The bridge from uvicorn to Flask: every request reaches the app whole, every answer reaches the client whole."""
import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit import serving
from toolkit.limits import REQUEST_BYTES


def echo(environ, start_response):
    """A WSGI app that answers with what it was sent, in the parts it is told to."""
    body = environ["wsgi.input"].read()
    parts = [int(n) for n in environ.get("HTTP_X_PARTS", "1").split(",")]
    start_response("201 Created", [("Content-Type", "application/octet-stream"), ("X-Length", str(len(body)))])
    pieces, at = [], 0
    for size in parts:
        pieces.append(body[at:at + size])
        at += size
    pieces.append(body[at:])
    return pieces


def ask(asgi, body_parts: list[bytes], headers: list, disconnect_after: int | None = None) -> list[dict]:
    """One POST through an ASGI app, its body sent in body_parts; the messages sent back."""

    async def run():
        sent, parts = [], list(body_parts)

        async def receive():
            if disconnect_after is not None and len(body_parts) - len(parts) >= disconnect_after:
                return {"type": "http.disconnect"}
            part = parts.pop(0) if parts else b""
            return {"type": "http.request", "body": part, "more_body": bool(parts)}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": "/echo", "raw_path": b"/echo", "query_string": b"", "root_path": "",
                 "headers": headers, "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 5000)}
        await asgi(scope, receive, send)
        return sent

    return asyncio.run(run())


def _split(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(cut, len(body)) for cut in cuts})
    return [body[a:b] for a, b in zip([0, *points], [*points, len(body)])]


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=300), cuts=st.lists(st.integers(0, 300), max_size=4),
       answer_parts=st.lists(st.integers(0, 100), max_size=4),
       large=st.booleans(), chunked=st.booleans())
def test_the_app_gets_the_whole_body_and_the_client_the_whole_answer(body, cuts, answer_parts, large, chunked):
    # Small bodies are read first and answered at once; larger or chunked ones go through a2wsgi.
    payload = body + (b"x" * (REQUEST_BYTES + 1) if large else b"")
    headers = [(b"x-parts", ",".join(map(str, answer_parts or [0])).encode())]
    headers.append((b"transfer-encoding", b"chunked") if chunked else (b"content-length", str(len(payload)).encode()))
    sent = ask(serving.wsgi_to_asgi(echo, 2), _split(payload, cuts), headers)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 201
    assert dict(sent[0]["headers"])[b"x-length"] == str(len(payload)).encode()
    assert b"".join(m.get("body", b"") for m in sent[1:]) == payload
    assert not sent[-1].get("more_body")


def test_a_small_request_is_answered_in_one_piece():
    # One hand-over to a thread and back: the answer goes out as its head and one body.
    sent = ask(serving.wsgi_to_asgi(echo, 2), [b"dots=", b"1"], [(b"content-length", b"6"), (b"x-parts", b"1,2,1")])
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[1]["body"] == b"dots=1" and not sent[1].get("more_body")


def test_a_client_gone_before_its_body_arrived_is_not_answered():
    called = []

    def app(environ, start_response):
        called.append(environ)
        return echo(environ, start_response)

    sent = ask(serving.wsgi_to_asgi(app, 2), [b"dots=", b"1"], [(b"content-length", b"6")], disconnect_after=1)
    assert sent == [] and called == []


def test_only_a_body_of_a_known_small_length_is_read_first():
    small = serving._small_body
    assert small({"headers": []}) and small({"headers": [(b"content-length", str(REQUEST_BYTES).encode())]})
    assert not small({"headers": [(b"content-length", str(REQUEST_BYTES + 1).encode())]})
    assert not small({"headers": [(b"transfer-encoding", b"chunked")]})
    assert not small({"headers": [(b"content-length", b"5"), (b"content-length", b"6")]})
    assert not small({"headers": [(b"content-length", b"-1")]})


async def _get(asgi, path: str, method: str = "GET") -> bytes:
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": [],
             "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 5000)}
    await asgi(scope, receive, send)
    return b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")


def test_requests_that_wait_long_leave_the_threads_to_the_room():
    import threading

    gate = threading.Event()

    def app(environ, start_response):
        if environ["PATH_INFO"].startswith("/export"):
            gate.wait(10)  # as an export waits for the drawing process
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["PATH_INFO"].encode()]

    async def run():
        asgi = serving.wsgi_to_asgi(app, 1, waits=lambda scope: scope["path"].startswith("/export"))
        exports = [asyncio.ensure_future(_get(asgi, f"/export{n}")) for n in range(3)]
        await asyncio.sleep(0.1)
        votes = [await asyncio.wait_for(_get(asgi, f"/vote{n}"), 5) for n in range(3)]
        waiting = not any(export.done() for export in exports)
        gate.set()
        return votes, waiting, await asyncio.gather(*exports)

    votes, waiting, exports = asyncio.run(run())
    assert votes == [b"/vote0", b"/vote1", b"/vote2"] and waiting
    assert exports == [b"/export0", b"/export1", b"/export2"]


def test_exports_are_the_requests_that_wait_long(app):
    from flask import url_for

    from toolkit.web import waits_long

    with app.test_request_context():
        waiting = [url_for("facilitator.export", code="ABCD12")]
        working = [url_for("participant.set_dots", code="ABCD12", item_id=3), url_for("participant.live", code="ABCD12"),
                   url_for("facilitator.workshop", code="ABCD12"), url_for("auth.login"),
                   url_for("facilitator.draft", code="ABCD12", version=1)]
    assert all(waits_long({"method": "POST", "path": path}) for path in waiting)
    assert not any(waits_long({"method": method, "path": path}) for path in working for method in ("GET", "POST"))
    assert not waits_long({"method": "GET", "path": waiting[0]})


def test_turns_go_by_when_work_is_due_and_patient_work_waits_no_longer_than_its_patience():
    import threading
    import time

    gate, ran = threading.Event(), []
    turns = serving.Turns(1, "test")
    busy = turns.submit(gate.wait, 10)  # the one thread is busy while the rest come in
    page = turns.submit_within(0.2, ran.append, "page")
    vote = turns.submit_within(0.0, ran.append, "vote")
    time.sleep(0.3)  # past the page's patience: what comes now goes after it
    later = turns.submit(ran.append, "later vote")
    gate.set()
    for future in (busy, page, vote, later):
        future.result(5)
    assert ran == ["vote", "page", "later vote"]


def test_turns_skip_work_given_up_while_waiting_and_hand_over_errors():
    import threading

    gate, ran = threading.Event(), []
    turns = serving.Turns(1, "test")
    busy = turns.submit(gate.wait, 10)
    gone = turns.submit(ran.append, "gone")
    failing = turns.submit(int, "not a number")
    assert gone.cancel()
    gate.set()
    busy.result(5)
    try:
        failing.result(5)
    except ValueError:
        pass
    else:
        raise AssertionError("the error did not reach whoever waited")
    assert ran == []


def test_a_whole_page_lets_the_rooms_votes_go_first():
    import threading

    gate, order = threading.Event(), []

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/busy":
            gate.wait(10)
        order.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b""]

    async def run():
        asgi = serving.wsgi_to_asgi(app, 1, patient=lambda scope: scope["path"].startswith("/page"))
        busy = asyncio.ensure_future(_get(asgi, "/busy"))
        await asyncio.sleep(0.1)
        pages = [asyncio.ensure_future(_get(asgi, f"/page{n}")) for n in range(3)]
        await asyncio.sleep(0.05)
        vote = asyncio.ensure_future(_get(asgi, "/vote", "POST"))
        await asyncio.sleep(0.05)
        gate.set()
        await asyncio.gather(busy, vote, *pages)

    asyncio.run(run())
    assert order == ["/busy", "/vote", "/page0", "/page1", "/page2"]


def test_pages_are_what_htmx_did_not_ask_for():
    from toolkit.web import draws_page

    assert draws_page({"headers": [(b"accept", b"text/html")]})
    assert not draws_page({"headers": [(b"accept", b"text/html"), (b"hx-request", b"true")]})
