"""Where Word documents are drawn: in a process of their own under the server, so the room keeps voting.

Drawing a draft's charts holds Python's interpreter lock for long stretches; inside the web
server's process that would stall every poll and vote while an agenda is exported. The
server starts one drawing process (`start`); everywhere else (the command line, tests)
documents are drawn in the calling process.
"""
import importlib
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _draw(agenda: dict) -> bytes:
    from toolkit.agenda_docx import render

    return render(agenda)


def _follow_parent(parent: int) -> None:
    """In the worker: end when the server process is gone, however it ended (even killed)."""

    def watch():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def _warm() -> None:
    # The first document pays for importing matplotlib and python-docx: pay it at start.
    importlib.import_module("toolkit.agenda_docx")


def start(workers: int = 1) -> None:
    """Draw documents in worker processes from now on (serve calls this once at start)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            # spawn, not fork: forking a process with running threads can copy a held lock.
            _pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_follow_parent, initargs=(os.getpid(),))
            _pool.submit(_warm)


def render(agenda: dict) -> bytes:
    """The agenda as DOCX bytes, drawn in the worker process when there is one."""
    pool = _pool
    if pool is None:
        return _draw(agenda)
    return pool.submit(_draw, agenda).result()


def stop() -> None:
    """Stop the drawing process; documents are drawn in the calling process again."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown()
