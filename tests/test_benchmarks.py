"""The benchmarks run (on a tiny load); their figures belong in the README, not in asserts."""
import re
import subprocess
import sys


def test_export_benchmark_runs():
    result = subprocess.run([sys.executable, "-m", "benchmarks.export", "--quick"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "| 12 | 6 |" in result.stdout


def test_load_benchmark_runs():
    result = subprocess.run([sys.executable, "-m", "benchmarks.load", "--quick"],
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "| toolkit: poll (idle) |" in result.stdout and "| baseline: GET |" in result.stdout
    assert "acknowledged end states stored exactly" in result.stdout
    # One at a time on the idle server: a vote, the least of forms and the guarded insert, as ratios to the insert.
    assert re.search(r"a vote [\d.]+ ms, .* a form that only checks the session and its token [\d.]+ ms .*"
                     r"behind Flask's signed session and Flask-WTF's CSRF check [\d.]+ ms", result.stdout)


def _scripted_server(answers: dict):
    """A loopback HTTP server that answers each path with its bytes (None: never answers), counting connections."""
    import asyncio

    connections = []

    async def handle(reader, writer):
        connections.append(writer)
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            length = next((int(line.split(":")[1]) for line in lines if line.lower().startswith("content-length")), 0)
            body = await reader.readexactly(length)
            path = lines[0].split(" ")[1]
            connections.append((path, [line for line in lines if line.startswith("Cookie")], body))
            answer = answers[path]
            if answer is None:
                await asyncio.sleep(3600)
            writer.write(answer)
            await writer.drain()
            if b"Connection: close" in answer:
                writer.close()
                return

    return handle, connections


def test_a_load_test_phone_keeps_its_connection_and_cookies_as_a_browser_does():
    import asyncio

    from benchmarks.phone import ERRORS, Phone

    answers = {
        "/in": b"HTTP/1.1 303 See Other\r\nSet-Cookie: session=abc; Path=/; HttpOnly\r\nLocation: /\r\n"
               b"Content-Length: 0\r\n\r\n",
        "/page": b"HTTP/1.1 200 OK\r\nHX-Trigger: room-moved\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        "/out": b"HTTP/1.1 204 No Content\r\nSet-Cookie: session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; "
                b"Max-Age=0; Path=/\r\n\r\n",
        "/bye": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
        "/never": None,
    }

    async def scenario():
        handle, seen = _scripted_server(answers)
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        phone = Phone("127.0.0.1", server.sockets[0].getsockname()[1], timeout=0.5)
        signed_in = await phone.request("POST", "/in", data={"name": "Pat & co"})
        page = await phone.request("GET", "/page", headers={"HX-Request": "true"})
        ended = await phone.request("GET", "/out")
        after = await phone.request("GET", "/bye")
        again = await phone.request("GET", "/page")
        try:
            await phone.request("GET", "/never")
            timed_out = None
        except ERRORS as error:
            timed_out = error
        phone.close()
        server.close()
        return signed_in, page, ended, after, again, timed_out, seen

    signed_in, page, ended, after, again, timed_out, seen = asyncio.run(scenario())
    assert (signed_in.status, signed_in.headers["location"]) == (303, "/")  # redirects are answers
    assert (page.status, page.body, page.headers["hx-trigger"]) == (200, b"abcde", "room-moved")
    assert ended.status == 204 and after.body == b"ok" and again.body == b"abcde"
    assert isinstance(timed_out, TimeoutError)
    requests = [entry for entry in seen if isinstance(entry, tuple)]
    connections = [entry for entry in seen if not isinstance(entry, tuple)]
    assert requests[0] == ("/in", [], b"name=Pat+%26+co")
    assert requests[1][1] == ["Cookie: session=abc"] and requests[3][1] == []  # kept, then ended
    # One connection until the server closed it, then a new one, as a browser tab does.
    assert len(connections) == 2 and [path for path, *_ in requests] == ["/in", "/page", "/out", "/bye", "/page",
                                                                         "/never"]
