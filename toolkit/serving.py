"""The production server: uvicorn processes on one listening socket, kept running by the process that started them.

Each process runs uvicorn (HTTP parsed in C by httptools, on uvloop where it exists) and hands
the Flask app's requests to a pool of threads (wsgi_to_asgi). Python runs one thread at a time
in a process (the interpreter lock), so a single process uses one core however many threads it
has. `toolkit serve` reserves the port once and forks a process per core; each listens on it with a
socket of its own, and the kernel spreads new connections evenly over them. Everything they share
lives in SQLite (sessions are signed cookies), so any process can answer any request.
"""
import asyncio
import contextvars
import ctypes
import gc
import heapq
import io
import itertools
import os
import signal
import socket
import sys
import threading
import time
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Callable

from toolkit.limits import REQUEST_BYTES

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def default_processes() -> int:
    """One process per core, at most 4 (each keeps its own drawing process); 1 where fork is missing."""
    if not hasattr(os, "fork") or not sys.platform.startswith("linux"):
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


BACKLOG = 2048  # connections the kernel holds for a process that is busy accepting
# Flask's threads in each process. Python runs one thread at a time per process, and the event
# loop that answers most polls (the poll shortcut) waits for the interpreter behind each of them.
# At 3,000 people, polls took 134 ms at p95 and votes 404 ms with 4 threads, 21 and 165 ms with 2
# (benchmarks/load.py). More threads would help only requests that wait without the interpreter,
# and those get threads of their own (WAITING_THREADS).
THREADS = 2
WAITING_THREADS = 4  # beside them, for requests that mostly wait without the interpreter (wsgi_to_asgi)
# How much longer a whole page may wait for a thread than the room's votes and updates: a room
# that moves on asks for 60 pages at once, and a vote sent just then would wait behind them all.
PAGE_PATIENCE_SECONDS = 0.5
HAND_OVER_SECONDS = 0.001  # how long a thread may keep the interpreter from one waiting for it


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on host and port, for a server of one process."""
    family, *_, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    return socket.create_server(address[:2], family=family, backlog=BACKLOG)


def reserve(host: str, port: int) -> socket.socket:
    """host and port bound (not listening) for a server of several processes; OSError if anything else has them.

    Each process then listens on the address with a socket of its own (listen_beside). A single
    socket shared by all would let the kernel give a new connection to whichever process asks
    first, and a phone keeps its connection: at 3,000 phones one process held 59% of them and
    fell seconds behind while the other had time to spare (benchmarks/load.py). With a socket each,
    the kernel spreads connections over them evenly, by a hash of each one's addresses.
    """
    family, *_, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    # Refused when any socket has the address, so a second server cannot join this one's processes
    # (SO_REUSEPORT lets any socket of the same user do so); past connections' TIME_WAIT do not count.
    with socket.create_server(address[:2], family=family):
        pass
    reserved = socket.socket(family, socket.SOCK_STREAM)
    reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        # Without SO_REUSEADDR: the check above then fails for anyone else while this one holds it.
        reserved.bind(address[:2])
    except OSError:
        reserved.close()
        raise
    return reserved


def listen_beside(reserved: socket.socket) -> socket.socket:
    """A listening socket of this process's own on the reserved address, sharing its connections evenly with the others."""
    listening = socket.socket(reserved.family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    # As any server's: its closed connections waiting out TIME_WAIT then keep no one from the port.
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind(reserved.getsockname()[:2])
    listening.listen(BACKLOG)
    return listening


class Turns(Executor):
    """Threads that take work by when it is due: patient work lets what comes up to its patience later go first."""

    def __init__(self, threads: int, name: str):
        self._threads, self._name = threads, name
        self._due: list = []  # a heap of (due, order, future, fn, args, kwargs)
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._started = False

    def submit(self, fn, /, *args, **kwargs) -> Future:
        return self.submit_within(0.0, fn, *args, **kwargs)

    def submit_within(self, patience: float, fn, /, *args, **kwargs) -> Future:
        """Run fn(*args, **kwargs) in a thread, after anything due before now + patience."""
        future = Future()
        with self._changed:
            if not self._started:
                # Started at the first request, not when made: a server made before forking starts
                # its threads in each process (serving.run).
                self._started = True
                for number in range(self._threads):
                    threading.Thread(target=self._work, name=f"{self._name}-{number}", daemon=True).start()
            heapq.heappush(self._due, (time.monotonic() + patience, next(self._order), future, fn, args, kwargs))
            self._changed.notify()
        return future

    def _work(self):
        while True:
            with self._changed:
                while not self._due:
                    self._changed.wait()
                _due, _order, future, fn, args, kwargs = heapq.heappop(self._due)
            if not future.set_running_or_notify_cancel():
                continue  # its client went away while it waited
            try:
                result = fn(*args, **kwargs)
            except BaseException as error:  # noqa: BLE001 - handed to whoever waits for it, as ThreadPoolExecutor does
                future.set_exception(error)
            else:
                future.set_result(result)


def wsgi_to_asgi(wsgi_app, threads: int, waits=lambda scope: False, patient=lambda scope: False, **environ):
    """wsgi_app as an ASGI app, called in a pool of threads, with environ added to each request's.

    A request for which patient(scope) is true (a whole page) takes its turn after requests that
    came up to PAGE_PATIENCE_SECONDS later (votes, updates of a page already shown).

    A request for which waits(scope) is true spends most of its time waiting without the
    interpreter (an export waiting for the drawing process): it runs in a pool of
    WAITING_THREADS of its own, so that a few of them never take all of the threads the room's
    votes are answered in.

    A request with a small body (every form but a workshop file to import) is read whole first,
    and its answer, gathered whole in the thread, is sent at once: one hand-over to a thread and
    back. a2wsgi, which takes the rest, hands over between the thread and the event loop for the
    body and for each part of the answer: four times for a vote, each a wait for the event loop,
    which under load added about 3 ms to every request (benchmarks/load.py).
    """
    from a2wsgi import WSGIMiddleware
    from a2wsgi.wsgi import build_environ

    def terminated(request, start_response):
        # The ASGI server has taken any chunked encoding off and ends the input where the body
        # ends, so a body without Content-Length can be read to its end (the WSGI convention).
        request["wsgi.input_terminated"] = True
        request.update(environ)
        return wsgi_app(request, start_response)

    streamed = WSGIMiddleware(terminated, workers=threads)
    turns = streamed.executor = Turns(threads, "flask")
    waiting = ThreadPoolExecutor(WAITING_THREADS, thread_name_prefix="waiting")

    def answered(request) -> tuple[int, list, bytes]:
        started, parts = [], []

        def start_response(status, headers, exc_info=None):
            if exc_info and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [int(status.split(" ", 1)[0]),
                          [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]]
            return parts.append

        answer = terminated(request, start_response)
        try:
            parts.extend(answer)
        finally:
            if hasattr(answer, "close"):
                answer.close()
        return started[0], started[1], b"".join(parts)

    async def app(scope, receive, send):
        if scope["type"] != "http" or not _small_body(scope):
            await streamed(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = build_environ(scope, io.BytesIO(bytes(body)))
        # In a copy of this context, as a2wsgi does: each request's thread starts from the server's.
        context = contextvars.copy_context()
        if waits(scope):
            answering = waiting.submit(context.run, answered, request)
        else:
            patience = PAGE_PATIENCE_SECONDS if patient(scope) else 0.0
            answering = turns.submit_within(patience, context.run, answered, request)
        status, headers, content = await asyncio.wrap_future(answering)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    return app


def _small_body(scope) -> bool:
    """Whether the request's body is known to be no larger than any form but an import (limits.REQUEST_BYTES)."""
    length = None
    for name, value in scope["headers"]:
        if name == b"transfer-encoding":
            return False
        if name == b"content-length":
            if length is not None or not value.isdigit():
                return False
            length = int(value)
    return length is None or length <= REQUEST_BYTES


def keep_for_good() -> None:
    """Take what exists now (the app, its templates, catalogues and libraries) out of the garbage collector's walks.

    It lives as long as the server. Under load the collector's full walks of it, a few a minute,
    each paused every request of the process for 100 to 250 ms (benchmarks/load.py, gc.callbacks).
    """
    gc.collect()
    gc.freeze()


def hand_over_quickly() -> None:
    """Let a thread that waits for the interpreter have it within HAND_OVER_SECONDS, not Python's 5 ms.

    The event loop gives up the interpreter at every SQLite read and every wait for the network;
    at Python's default it then waited up to 5 ms for a Flask thread each time. At 3,000 people
    that made votes 203 ms at p95 and 908 ms at p99; at 1 ms, 165 and 589 ms (benchmarks/load.py).
    """
    sys.setswitchinterval(HAND_OVER_SECONDS)


def server(asgi_app):
    """A uvicorn server for asgi_app that names no software and leaves addresses to the app's proxy settings."""
    import uvicorn

    return uvicorn.Server(uvicorn.Config(
        asgi_app, lifespan="off", log_level="warning", access_log=False,
        server_header=False,  # answers do not name the server software
        proxy_headers=False,  # TOOLKIT_PROXIES decides whom to trust (toolkit/__init__.py)
        timeout_graceful_shutdown=10,
        # Longer than any pause between a page's requests, as proxies keep them (nginx: 75 s). A
        # connection closed by the server just as a client sends on it fails that request.
        timeout_keep_alive=75,
    ))


def _end_with(parent: int) -> None:
    """In a child: the kernel ends it when its parent ends, even when the parent is killed."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent ended before the request above took effect
        os._exit(0)


def run(serve: Callable[[int], None], processes: int, say: Callable[[str], None]) -> None:
    """Fork processes children that each call serve(number); start another with that number when
    one ends, until stopped.

    Call it before starting any thread, and start none in this process: a fork copies only the
    calling thread, and a lock another thread held at that moment would stay held in the child.
    """
    parent = os.getpid()
    children: dict[int, tuple[int, float]] = {}  # pid -> (number, started)
    stopping = False

    def start_one(number: int):
        pid = os.fork()
        if pid == 0:
            # The child answers Ctrl+C and a plain kill as a lone server does.
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _end_with(parent)
            code = 0
            try:
                serve(number)
            except KeyboardInterrupt:
                pass
            except BaseException:  # noqa: BLE001 - whatever ends a child, the parent starts another
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)
        children[pid] = (number, time.monotonic())

    def stop(_signum, _frame):
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for number in range(processes):
        start_one(number)
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        ended = children.pop(pid, None)
        if ended is None or stopping:
            continue
        number, started = ended
        say(f"A server process ended ({_how(status)}); starting another.")
        if time.monotonic() - started < 1:
            time.sleep(1)  # one that fails at once must not be restarted in a tight loop
        start_one(number)


def _how(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"
