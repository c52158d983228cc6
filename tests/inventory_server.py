"""A small Inventory service speaking the HTTP contract of providers/inventory/http.py,
for tests and the demo: names `<environment>-<role>-<n>`, systems kept in memory."""

from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote


class InventoryService:
    def __init__(self, token: str = "inventory-token"):
        self.token = token
        self.names: dict[tuple[str, str], str] = {}  # (cloud, name) -> pcm_id
        self.systems: dict[tuple[str, str], dict] = {}
        self.counter = 0
        self.down = False  # answer 503 to everything
        self.calls: list[str] = []
        self.request_ids: list[tuple[str, str | None]] = []  # (method, X-Request-ID)
        self.lock = threading.Lock()

    def handle(self, method: str, path: str, body: dict | None) -> tuple[int, dict]:
        self.calls.append(f"{method} {path}")
        if self.down:
            return 503, {"error": "down for maintenance"}
        parts = [unquote(p) for p in path.strip("/").split("/")]
        with self.lock:
            if method == "POST" and parts == ["names"]:
                self.counter += 1
                name = f"{body['environment']}-{body['role'] or 'node'}-{self.counter}"
                self.names[(body["cloud"], name)] = body["pcm_id"]
                return 201, {"name": name}
            if method == "DELETE" and parts[0] == "names" and len(parts) == 3:
                found = self.names.pop((parts[1], parts[2]), None)
                return (204 if found else 404), {}
            if method == "PUT" and parts[0] == "systems" and len(parts) == 3:
                self.systems[(parts[1], parts[2])] = body
                return 200, body
            if method == "DELETE" and parts[0] == "systems" and len(parts) == 3:
                found = self.systems.pop((parts[1], parts[2]), None)
                return (204 if found else 404), {}
        return 404, {"error": "no such call"}


@contextlib.contextmanager
def serve(service: InventoryService):
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            service.request_ids.append((self.command, self.headers.get("X-Request-ID")))
            if self.headers.get("Authorization") != f"Bearer {service.token}":
                self.send_response(401)
                self.end_headers()
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, answer = service.handle(self.command, self.path, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_PUT = do_DELETE = do_GET = _answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
