"""A phone's browser for the load test: one keep-alive HTTP/1.1 connection, its cookies, little CPU.

The load generator runs on the server's own cores (benchmarks/load.py), so every millisecond it
spends on a request is taken from the server it measures. aiohttp spent 0.42 ms of CPU a request
at 1,500 people (py-spy: building each request, its cookie jar, its timeout), this 0.18 ms. And
aiohttp's pool let a venue's phones share connections, each request taking one that was free:
those on the quicker server process, so the pool balanced the load as no phone can. This asks
as a browser tab does, one request at a time on a connection of its own, and reads the answers
with httptools, the C parser uvicorn reads requests with.
"""
import asyncio
import urllib.parse
from typing import NamedTuple

import httptools

ERRORS = (OSError, asyncio.TimeoutError, httptools.HttpParserError)  # a request that got no answer


class Answer(NamedTuple):
    status: int
    headers: dict  # lower-case name -> value (the last one, for a name given twice)
    body: bytes


class _Connection(asyncio.Protocol):
    """The socket and parser under a Phone: hands each whole answer to the request waiting for it."""

    def __init__(self):
        self.transport = None
        self.closed = False
        self.waiting: asyncio.Future | None = None
        self.parser = httptools.HttpResponseParser(self)
        self._start()

    def _start(self):
        self.headers, self.cookies, self.body = {}, [], []

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(error)
            self.transport.close()

    def connection_lost(self, exc):
        self.closed = True
        self._fail(exc or ConnectionResetError("the server closed the connection"))

    # httptools' callbacks
    def on_header(self, name: bytes, value: bytes):
        name = name.lower()
        if name == b"set-cookie":
            self.cookies.append(value.decode("latin-1"))
        else:
            self.headers[name.decode("latin-1")] = value.decode("latin-1")

    def on_body(self, body: bytes):
        self.body.append(body)

    def on_message_complete(self):
        answer = (self.parser.get_status_code(), self.headers, self.cookies, b"".join(self.body),
                  self.parser.should_keep_alive())
        self._start()
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_result(answer)

    def _fail(self, error: BaseException):
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_exception(error)


class Phone:
    """One browser: its own connection to host:port (from local_address, if given) and its own cookies."""

    def __init__(self, host: str, port: int, local_address: str | None = None, timeout: float = 30.0):
        self.host, self.port, self.local_address, self.timeout = host, port, local_address, timeout
        self.cookies: dict[str, str] = {}
        self._connection: _Connection | None = None

    @classmethod
    def of(cls, base: str, **kwargs) -> "Phone":
        """A phone for the server at base (http://host:port)."""
        address = urllib.parse.urlsplit(base)
        return cls(address.hostname, address.port, **kwargs)

    async def request(self, method: str, path: str, data: dict | None = None, headers: dict | None = None) -> Answer:
        """Send one request and wait for its whole answer; redirects are answers, as the pages' htmx sees them."""
        loop = asyncio.get_running_loop()
        if self._connection is None or self._connection.closed:
            # A new one also when the server closed an idle one (its keep-alive ran out), as browsers do.
            local = (self.local_address, 0) if self.local_address else None
            _, self._connection = await loop.create_connection(_Connection, self.host, self.port, local_addr=local)
        connection = self._connection
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{name}={value}" for name, value in self.cookies.items()))
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        body = b""
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        connection.waiting = waiting = loop.create_future()
        timer = loop.call_later(self.timeout, self._time_out, waiting)
        try:
            connection.transport.write("\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body)
            status, answer_headers, cookies, content, keep_alive = await waiting
        except BaseException:
            # Whatever comes on it now answers nothing this phone is waiting for.
            connection.transport.close()
            self._connection = None
            raise
        finally:
            timer.cancel()
        for cookie in cookies:
            self._keep_cookie(cookie)
        if not keep_alive:
            connection.transport.close()
            self._connection = None
        return Answer(status, answer_headers, content)

    @staticmethod
    def _time_out(waiting: asyncio.Future):
        if not waiting.done():
            waiting.set_exception(asyncio.TimeoutError())

    def _keep_cookie(self, header: str):
        """Keep a Set-Cookie's value, or forget the cookie it ends (Max-Age=0, as Flask ends a session)."""
        pair, *attributes = header.split(";")
        name, _, value = pair.strip().partition("=")
        ended = any(attribute.strip().lower() in ("max-age=0", "max-age=-1") for attribute in attributes)
        if ended:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value

    def close(self):
        if self._connection is not None:
            self._connection.transport.close()
            self._connection = None
