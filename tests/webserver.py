"""Test helpers for `kgtool serve`: a project with fixed test queries, a server on a free loopback port,
and an HTTP client that returns errors instead of raising them and never goes through a proxy."""

from __future__ import annotations

import contextlib
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from helpers import REPO
from kgtool.project import find_project
from kgtool.server import KgtoolHTTPServer, make_server
from kgtool.webapp import ServerConfig

WEB_QUERIES = REPO / "tests" / "fixtures" / "web-queries"


def web_project(tmp: Path):
    """The bundled ontology and data with the web test queries (linked, not copied: nothing writes)."""
    for folder in ("ontology", "data"):
        (tmp / folder).symlink_to(REPO / folder, target_is_directory=True)
    (tmp / "queries").symlink_to(WEB_QUERIES, target_is_directory=True)
    return find_project(tmp)


@contextlib.contextmanager
def running_server(project, **options) -> Iterator[KgtoolHTTPServer]:
    server = make_server(project, ServerConfig(host="127.0.0.1", port=0, **options))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0]


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(url: str, method: str = "GET", data: bytes | None = None, headers: dict[str, str] | None = None,
          timeout: float = 30) -> Reply:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return Reply(response.status, _lower(response.headers), response.read())
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, _lower(exc.headers), exc.read())


def _lower(headers) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}
