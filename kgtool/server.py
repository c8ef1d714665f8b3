"""``kgtool serve``: a read-only SPARQL 1.1 Protocol endpoint and a browser UI, on the standard library.

``http.server.ThreadingHTTPServer`` is enough: every query already runs in a forked worker under a time
limit (:mod:`kgtool.limits`), so a framework would add no safety, only a dependency. This module is the
socket side; :mod:`kgtool.webapp` answers the requests.

Socket-side limits: loopback unless the caller names another address explicitly (``allow_remote``); a
body without ``Content-Length`` answered 411, one over ``max_body`` answered 413 (before it is read when
the client sends ``Expect: 100-continue``), two different ``Content-Length`` headers 400; a request refused
before its body is read closes the connection, so the body is never read as a request of its own; a
connection that sends nothing for ``IDLE_TIMEOUT`` seconds is closed, and so is one that has not sent a
whole request within ``request_deadline``; at most ``max_connections`` are open at once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .errors import UsageError
from .project import Project
from .webapp import SECURITY_HEADERS, App, Request, Response, ServerConfig, is_loopback

log = logging.getLogger("kgtool.server")
IDLE_TIMEOUT = 30  # seconds a connection may sit idle or trickle
DRAIN_LIMIT = 16 << 20  # an oversized body up to this size is read and dropped, so the client sees the 413


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kgtool"
    timeout = IDLE_TIMEOUT
    server: KgtoolHTTPServer

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_OPTIONS(self) -> None:
        """What any path allows (no CORS: a page of another origin gets no answer it may read)."""
        if not self.server.app.host_allowed(self.headers.get("Host")):
            self.close_connection = True
            self._send(Response(403, b"forbidden: unexpected Host header\n"), head=False)
            return
        self._send(Response(204, b"", headers={"Allow": "GET, HEAD, POST, OPTIONS"}), head=False)

    def version_string(self) -> str:
        return self.server_version

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's own errors (an unknown method, a request line or headers too long, a
        malformed request) as plain text with the security headers every answer carries, and the
        connection closed."""
        self.close_connection = True
        short = self.responses.get(code, ("error",))[0]
        body = f"{code} {message or short}\n".encode("latin-1", "replace")
        self._send(Response(code, body), head=getattr(self, "command", None) == "HEAD")

    def handle_expect_100(self) -> bool:
        length = self._length()
        if length is not None and length > self.server.app.config.max_body:
            self._send(self._too_large(length), head=False)
            return False
        return super().handle_expect_100()

    def handle_one_request(self) -> None:
        """As the standard library's, under a deadline for receiving the request: the socket's timeout
        is per read, so a client sending a byte every 29 s would hold the connection for ever."""
        import threading

        self._deadline = threading.Timer(self.server.app.config.request_deadline, self._give_up)
        self._deadline.daemon = True
        self._deadline.start()
        try:
            super().handle_one_request()
        finally:
            self._deadline.cancel()

    def _give_up(self) -> None:
        import socket

        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _dispatch(self, method: str) -> None:
        app = self.server.app
        if not app.host_allowed(self.headers.get("Host")):
            self.close_connection = True  # the unread body must not be read as the next request
            self._send(Response(403, b"forbidden: unexpected Host header\n"), head=False)
            return
        body = b""
        if len({v.strip() for v in self.headers.get_all("Content-Length") or []}) > 1:
            self.close_connection = True  # RFC 9112 6.3: which one a proxy used is unknown
            self._send(Response(400, b"conflicting Content-Length headers\n"), head=False)
            return
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            self._send(Response(411, b"send a Content-Length, not chunked encoding\n"), head=False)
            return
        length = self._length()
        if length is None or (method == "POST" and "Content-Length" not in self.headers):
            self.close_connection = True
            self._send(Response(411, b"send a valid Content-Length\n"), head=False)
            return
        if length:
            if length > app.config.max_body:
                self._drain(length)
                self._send(self._too_large(length), head=False)
                return
            body = self.rfile.read(length)
        self._deadline.cancel()  # the request is in: answering it has limits of its own
        path, _, query_string = self.path.partition("?")
        headers = {k.lower(): v for k, v in self.headers.items()}
        response = app.handle(Request(method, path, query_string, headers, body))
        self._send(response, head=method == "HEAD")

    def _length(self) -> int | None:
        try:
            value = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            return None
        return value if value >= 0 else None

    def _too_large(self, length: int) -> Response:
        self.close_connection = True
        limit = self.server.app.config.max_body
        return Response(413, f"request body of {length} bytes is over the limit of {limit} bytes\n".encode())

    def _drain(self, length: int) -> None:
        if length > DRAIN_LIMIT:
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 16))
            if not chunk:
                return
            length -= len(chunk)

    def _send(self, response: Response, head: bool) -> None:
        self.send_response(response.status)
        headers = {"Content-Type": response.content_type, "Content-Length": str(len(response.body)),
                   **SECURITY_HEADERS, **response.headers}
        if self.close_connection:
            headers["Connection"] = "close"
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args) -> None:
        log.info("%s %s", self.address_string(), format % args)


class KgtoolHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # listen backlog; socketserver's 5 makes a burst of clients wait 1 s

    def __init__(self, address: tuple[str, int], app: App) -> None:
        import threading

        self.app = app
        self.connections = threading.BoundedSemaphore(app.config.max_connections)
        if ":" in address[0]:
            import socket

            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)

    def process_request(self, request, client_address) -> None:
        """One thread per connection, up to ``max_connections``: beyond that a connection gets a 503 and
        is closed, so held connections cannot pile up threads without end."""
        if not self.connections.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                b"Content-Length: 25\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
                                b"too many open connections")
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.connections.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.connections.release()

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up is routine; anything else goes to the log, not to stderr."""
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            log.debug("connection from %s ended early", client_address[0])
        else:
            log.exception("error while answering %s", client_address[0])

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{'[' + host + ']' if ':' in host else host}:{port}/"


def make_server(project: Project, config: ServerConfig) -> KgtoolHTTPServer:
    """Load the graph and bind the socket (port 0 picks a free port: see ``server.url``)."""
    if not is_loopback(config.host) and not config.allow_remote:
        raise UsageError(f"refusing to listen on {config.host}: not a loopback address",
                         hint="name the address explicitly with --host to expose the endpoint")
    app = App(project, config)
    try:
        return KgtoolHTTPServer((config.host, config.port), app)
    except OSError as exc:
        raise UsageError(f"cannot listen on {config.host}:{config.port}: {exc.strerror}") from None


def serve(project: Project, config: ServerConfig, announce: Callable[[str], None] | None = None) -> None:
    """Serve until Ctrl-C; ``announce`` gets one line saying where (the caller prints it)."""
    server = make_server(project, config)
    exposed = "" if is_loopback(config.host) else "; reachable from other machines"
    if announce:
        announce(f"serving {server.url} (read-only{exposed}; Ctrl-C stops)")
    stopping = threading.Event()
    if config.warm:
        threading.Thread(target=_warm, args=(server.app, stopping, announce), daemon=True).start()
    if config.reload_every > 0:
        threading.Thread(target=_reload, args=(server.app, stopping, announce), daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stopping.set()
        server.server_close()


def _reload(app, stopping: threading.Event, announce: Callable[[str], None] | None) -> None:
    """Serve the project's changes as they land (:meth:`kgtool.webapp.App.refresh`), warming again if asked."""
    while not stopping.wait(app.config.reload_every):
        try:
            refreshed = app.refresh()
        except Exception:  # a bug here must not stop the checks, nor the server
            log.exception("checking the project for changes failed")
            continue
        if refreshed and announce:
            announce(refreshed.message)
        if refreshed and refreshed.served and app.config.warm:
            _warm(app, stopping, announce)


def _warm(app, stopping: threading.Event, announce: Callable[[str], None] | None) -> None:
    started = time.perf_counter()
    done = app.warm(stopping)
    if announce and not stopping.is_set():
        full = "; the result cache is full: --result-cache MB keeps more" if done.cache_full else ""
        announce(f"warm: {done.computed} of {done.jobs} default answers computed in "
                 f"{time.perf_counter() - started:.1f} s, {done.kept} kept{full}")
