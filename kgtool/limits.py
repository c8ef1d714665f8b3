"""A time limit, a memory limit and a result cap for every query path (CLI, server, remote endpoint).

Neither engine can be interrupted from Python: rdflib's evaluator never checks a clock, and pyoxigraph
evaluates in Rust. Two ways around it, one per kind of caller:

- :func:`run_watched`, for a one-shot process (the CLI): the query runs in the calling thread while a
  watchdog thread watches the clock and the process's memory; past a limit it reports and ends the whole
  process (``on_stop``). pyoxigraph releases the GIL while it evaluates and rdflib yields it every few
  milliseconds, so the watchdog always gets to run. Nothing is forked or pickled: this is what keeps a
  cold ``kgtool query`` close to the interpreter's own start-up time.
- :func:`run_limited`, for a long-lived process (the server) that must survive a runaway query: it
  evaluates in a *worker process* forked from the caller, which
inherits everything already loaded (the store, the catalogue) at no copying cost, and kills it with
``SIGKILL`` at the deadline. The worker sends back a pickled result or exception through a pipe.

Side benefits: the caller's graph is only ever read by a private copy-on-write child, so concurrent
server requests never share an rdflib graph (which is not thread-safe), and a query that exhausts memory
dies alone (the worker's address space is capped too, on Linux).

The result cap never truncates silently: a result with more rows (or triples) than the cap is refused
with a message naming the cap and how to raise it. The cap is checked inside the worker, so an
oversized result is never shipped back.

Platforms without ``fork`` (Windows) evaluate in-process: the cap still applies, the time limit does not.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import KgtoolError, QueryError
from .terms import GraphResult, SelectResult

DEFAULT_TIMEOUT = 30.0  # seconds, CLI
DEFAULT_MAX_ROWS = 100_000  # rows of a SELECT or triples of a CONSTRUCT/DESCRIBE, CLI
WORKER_MEMORY = 2 << 30  # bytes of extra address space a worker may take (Linux)
WATCHED_MEMORY = 2 << 30  # bytes of extra resident memory a watched query may take (Linux)
WATCH_INTERVAL = 0.05  # seconds between two looks of the watchdog

T = TypeVar("T")


class QueryTimeout(QueryError):
    """The query ran past its time limit and was stopped."""


class ResultTooLarge(QueryError):
    """The result has more rows than the cap allows."""


class WorkerDied(QueryError):
    """The worker ended without an answer (killed by its memory limit, a crash of the engine): the
    query could not be run, which is not the same as a query that is wrong (HTTP 500, not 400)."""


def run_limited_sized(fn: Callable[..., T], *args: Any, timeout: float | None = DEFAULT_TIMEOUT,
                      max_rows: int | None = DEFAULT_MAX_ROWS, timeout_hint: str = "raise it with --timeout",
                      cap_hint: str = "raise it with --max-rows, or add LIMIT to the query",
                      max_bytes: int | None = None, **kwargs: Any) -> tuple[T, int]:
    """Call ``fn(*args, **kwargs)`` in a forked worker, stopped after ``timeout`` seconds.

    Every query result in the return value (the value itself, or an item of a returned tuple) is checked
    against ``max_rows``, and the whole answer against ``max_bytes`` (pickled): one row of a GROUP_CONCAT
    can be a hundred megabytes, which the caller would hold several times over while writing it out.
    ``timeout``, ``max_rows`` or ``max_bytes`` of None or 0 means no limit. Errors raised by ``fn`` are
    raised here unchanged (they cross the process boundary by pickling). Also returns the size of the
    pickled answer (0 where there is no fork), what a cache of answers counts.
    """
    import pickle

    timeout = timeout or None
    max_rows = max_rows or None
    if not hasattr(os, "fork"):
        return check_cap(fn(*args, **kwargs), max_rows, cap_hint), 0
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: never returns into the caller's code
        os.close(read_fd)
        _worker(write_fd, fn, args, kwargs, timeout, max_rows, cap_hint, max_bytes or None)
    os.close(write_fd)
    try:
        payload = _collect(read_fd, pid, timeout)
    finally:
        os.close(read_fd)
        status = _reap(pid)
    if payload is None:
        raise QueryTimeout(f"query stopped after {timeout:g} s: time limit", hint=timeout_hint)
    if not payload:
        raise WorkerDied(f"the query worker ended without an answer ({_ending(status)}; out of memory?)",
                         hint="simplify the query or add LIMIT")
    ok, value = pickle.loads(payload)
    if ok:
        return value, len(payload)
    raise value


def run_limited(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """:func:`run_limited_sized` without the size: ``fn(*args)`` in a forked worker, under the limits."""
    return run_limited_sized(fn, *args, **kwargs)[0]


def run_watched(fn: Callable[..., T], *args: Any, on_stop: Callable[[BaseException], int],
                timeout: float | None = DEFAULT_TIMEOUT, max_rows: int | None = DEFAULT_MAX_ROWS,
                memory: int | None = WATCHED_MEMORY, timeout_hint: str = "raise it with --timeout",
                cap_hint: str = "raise it with --max-rows, or add LIMIT to the query", **kwargs: Any) -> T:
    """Call ``fn(*args, **kwargs)`` here, watched. For one-shot processes only: the process ends with it.

    Past ``timeout`` seconds, or once the process has grown by more than ``memory`` bytes, the watchdog
    thread calls ``on_stop(error)`` (a :class:`QueryError`) and ends the process with the exit status
    ``on_stop`` returns. Ctrl-C too: the engines do not see it while they evaluate (Python only raises
    KeyboardInterrupt between bytecodes), so the watchdog hears it on a signal wake-up pipe and calls
    ``on_stop(KeyboardInterrupt())`` unless the main thread handles it first. The result cap is applied
    as in :func:`run_limited`.
    """
    import select
    import threading

    timeout, max_rows, memory = timeout or None, max_rows or None, memory or None
    done = threading.Event()
    baseline = _resident_bytes() if memory else None
    deadline = None if timeout is None else time.monotonic() + timeout
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    try:
        previous = signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
    except ValueError:  # not the main thread: no Ctrl-C watch
        previous = None

    def stop(error: BaseException) -> None:
        status = 1
        try:
            status = on_stop(error)
        finally:
            os._exit(status if isinstance(status, int) else 1)

    def watch() -> None:
        try:
            while not done.is_set():
                wait = WATCH_INTERVAL if deadline is None else min(WATCH_INTERVAL, deadline - time.monotonic())
                woken = select.select([wake_read], [], [], max(0.0, wait))[0]
                if woken and signal.SIGINT in os.read(wake_read, 512) and not done.wait(0.2):
                    stop(KeyboardInterrupt())  # the main thread is deaf to it: inside the engine
                if done.is_set():
                    return
                if deadline is not None and time.monotonic() >= deadline:
                    stop(QueryTimeout(f"query stopped after {timeout:g} s: time limit", hint=timeout_hint))
                if baseline is not None and (_resident_bytes() or 0) - baseline > memory:
                    stop(QueryError(f"query stopped: it took more than {memory / (1 << 30):g} GiB of memory",
                                    hint="simplify the query or add LIMIT"))
        finally:
            os.close(wake_read)
            os.close(wake_write)

    watchdog = threading.Thread(target=watch, name="kgtool-watchdog", daemon=True)
    watchdog.start()
    try:
        value = fn(*args, **kwargs)
    finally:
        if previous is not None:
            signal.set_wakeup_fd(previous)
        done.set()
    return check_cap(value, max_rows, cap_hint)


def _resident_bytes() -> int | None:
    """The process's resident memory (Linux), None elsewhere: then only the clock is watched."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def check_cap(value: T, max_rows: int | None, hint: str = "raise it with --max-rows") -> T:
    """Refuse a result (or the results in a returned tuple) larger than ``max_rows``."""
    if not max_rows:
        return value
    for item in value if isinstance(value, tuple) else (value,):
        if isinstance(item, SelectResult) and len(item.rows) > max_rows:
            raise ResultTooLarge(f"the result has {len(item.rows)} rows, more than the cap of {max_rows}",
                                 hint=hint)
        if isinstance(item, GraphResult) and len(item.ntriples) > max_rows:
            raise ResultTooLarge(f"the result has {len(item.ntriples)} triples, more than the cap of "
                                 f"{max_rows}", hint=hint)
    return value


def pickled_answer(value: Any, max_bytes: int | None, hint: str) -> bytes:
    """The answer as a worker sends it back (pickled, with its success flag), refused over ``max_bytes``."""
    import pickle

    payload = pickle.dumps((True, value), protocol=5)
    if max_bytes and len(payload) > max_bytes:
        raise ResultTooLarge(f"the result is {len(payload) / 2**20:.0f} MiB, more than the cap of "
                             f"{max_bytes / 2**20:.0f} MiB", hint=hint)
    return payload


def _worker(write_fd: int, fn: Callable[..., Any], args: tuple, kwargs: dict, timeout: float | None,
            max_rows: int | None, cap_hint: str, max_bytes: int | None = None) -> None:
    status = 1
    try:
        _harden_worker(timeout)
        try:
            payload = pickled_answer(check_cap(fn(*args, **kwargs), max_rows, cap_hint), max_bytes, cap_hint)
        except BaseException as exc:  # everything goes back to the caller
            payload = _pickled_error(exc)
        with os.fdopen(write_fd, "wb") as out:
            out.write(len(payload).to_bytes(8, "big") + payload)
        status = 0
    finally:
        os._exit(status)


def _harden_worker(timeout: float | None) -> None:
    """Die with the deadline even if the caller is gone; cap memory; ignore the terminal's Ctrl-C."""
    import resource

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the caller handles Ctrl-C and kills the worker
    if timeout:
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.setitimer(signal.ITIMER_REAL, timeout + 5.0)
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            current = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = current + WORKER_MEMORY
        if hard == resource.RLIM_INFINITY or limit < hard:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (OSError, ValueError):
        pass  # not Linux, or limits not changeable: the time limit still holds


def _pickled_error(exc: BaseException) -> bytes:
    import pickle
    import traceback

    if not isinstance(exc, KgtoolError) and exc.__traceback__ is not None:
        exc.add_note("in the query worker:\n" + "".join(traceback.format_tb(exc.__traceback__)))
    try:
        return pickle.dumps((False, exc), protocol=5)
    except Exception:  # an exception carrying something unpicklable
        detail = " ".join(str(exc).split())[:400]
        return pickle.dumps((False, QueryError(f"query failed: {type(exc).__name__}: {detail}")), protocol=5)


def _collect(read_fd: int, pid: int, timeout: float | None) -> bytes | None:
    """The worker's answer; None when the deadline passed first (the worker is then killed); b"" when
    the worker died without answering.

    The answer is length-prefixed and the worker's exit is watched through a pidfd, rather than waiting
    for end-of-file: a worker forked at the same moment by another server thread may hold a copy of this
    pipe's write end, so end-of-file can come late.
    """
    import selectors

    deadline = None if timeout is None else time.monotonic() + timeout
    buffer = bytearray()
    exited = False
    pidfd = _pidfd(pid)
    with selectors.DefaultSelector() as selector:
        selector.register(read_fd, selectors.EVENT_READ, "pipe")
        if pidfd is not None:
            selector.register(pidfd, selectors.EVENT_READ, "exit")
        try:
            while True:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    _kill(pid)
                    return None
                events = selector.select(0 if exited else remaining)
                if exited and not events:
                    return b""  # gone, and nothing (more) in the pipe
                for key, _mask in events:
                    if key.data == "exit":
                        exited = True
                        selector.unregister(pidfd)
                        continue
                    chunk = os.read(read_fd, 1 << 20)
                    if not chunk:
                        return b""
                    buffer += chunk
                    if len(buffer) >= 8 and len(buffer) - 8 >= int.from_bytes(buffer[:8], "big"):
                        return bytes(buffer[8:8 + int.from_bytes(buffer[:8], "big")])
        except BaseException:  # Ctrl-C or any error here: never leave the worker running
            _kill(pid)
            raise
        finally:
            if pidfd is not None:
                os.close(pidfd)


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)  # Linux 5.3+
    except (AttributeError, OSError):
        return None


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _reap(pid: int) -> int:
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return 0


def _ending(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
