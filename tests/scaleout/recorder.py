"""A pass-through HTTP proxy in front of moto that writes down every EC2 call it forwards
(action and ClientToken), so that a test can count the creates that reached the provider,
not only the nodes that resulted: EC2 answers a repeated ClientToken with the node it made
the first time, so a count of nodes alone could hide a second create call."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import requests


@dataclass
class Calls:
    """(action, client token) of each forwarded call, in order."""

    seen: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, action: str, token: str) -> None:
        with self.lock:
            self.seen.append((action, token))

    def tokens(self, action: str) -> list[str]:
        with self.lock:
            return [token for name, token in self.seen if name == action]


def _params(path: str, body: bytes | None) -> dict[str, list[str]]:
    """EC2's query API: the parameters are in the query string or a form body."""
    params = parse_qs(urlsplit(path).query)
    if body:
        for key, values in parse_qs(body.decode("utf-8", "replace")).items():
            params.setdefault(key, []).extend(values)
    return params


@contextlib.contextmanager
def recording_proxy(target: str, calls: Calls) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            params = _params(self.path, body)
            calls.add(params.get("Action", [""])[0], params.get("ClientToken", [""])[0])
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            answer = requests.request(
                self.command, target + self.path, data=body, headers=headers, timeout=60
            )
            self.send_response(answer.status_code)
            self.send_header("Content-Type", answer.headers.get("Content-Type") or "text/plain")
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        do_GET = do_POST = _forward

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
