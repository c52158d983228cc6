"""The chaos proxy: a threaded HTTP server in front of a real peer (moto or mimic) that
injects the faults real clouds show under load, which the peers themselves never do.

The peer still does the real work; the proxy decides per request, in this order:
throttle (not forwarded), 5xx (not forwarded), NotFound for a node still hidden by eventual
consistency, the first answer again for a repeated EC2 ClientToken; otherwise it forwards,
records a create, leaves hidden nodes out of listings and cuts pages, and then may reset
the connection (the call ran, the client never hears) or hold a create's answer back past
the client's timeout (the node exists, the client sees a timeout). Keystone's token calls
are never faulted: they are how a client gets in, not what a test is about.

Late answers sleep in daemon threads on an event that the proxy's exit sets, so a test
never waits for them at shutdown.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from tests.fault_proxy import ec2, nova
from tests.fault_proxy.dialect import Answer, Call
from tests.fault_proxy.faults import Faults

DIALECTS = {"ec2": ec2, "nova": nova}
_HOP_BY_HOP = {"host", "content-length", "connection", "keep-alive", "accept-encoding"}


def parse(method: str, path: str, body: bytes | None) -> Call:
    """The request in its dialect: EC2 when it has an Action, else OpenStack."""
    if ec2.is_ec2(path, body):
        return ec2.parse(method, path, body)
    return nova.parse(method, path, body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # A cloud's API takes many connections at once: with the default backlog of 5, 64
    # clients connecting together saw SYNs dropped and seconds of retransmission.
    request_queue_size = 128

    def __init__(self, target: str, faults: Faults):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.target = target.rstrip("/")
        self.faults = faults
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.stopping = threading.Event()

    def handle_error(self, request, client_address):
        pass  # a client gone (timed out, reset) is what these tests are about


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        call = parse(self.command, self.path, body)
        self.server.faults.note(call)
        dialect = DIALECTS.get(call.dialect)
        answer = self._refusal(call, dialect) if dialect else None
        if answer is None:
            answer = self._forwarded(call, dialect)
        if answer is not None:
            self._send(answer)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

    def _refusal(self, call: Call, dialect) -> Answer | None:
        """An answer given without forwarding: the call did not run at the peer."""
        faults = self.server.faults
        if faults.due("throttle_next", "throttle"):
            faults.count("throttle")
            return dialect.throttle()
        if faults.due("errors_next", "errors"):
            faults.count("error_5xx")
            return dialect.refusal(faults.error_status)
        hidden = faults.hidden_ids().intersection(call.ids)
        if hidden:
            faults.count("hidden_by_consistency")
            return dialect.not_found([node for node in call.ids if node in hidden])
        return None

    def _forwarded(self, call: Call, dialect) -> Answer | None:
        faults = self.server.faults
        token = call.token if call.kind == "create" and faults.honour_client_tokens else ""
        if token:
            replay = faults.claim_token(token)
            if replay is not None:
                faults.count("token_replay")
                return replay
        answer = None
        try:
            answer = self._peer(call, dialect)
        finally:
            if token:
                faults.settle_token(token, answer)
        if dialect is None:  # Keystone: only the catalogue's URLs change
            return nova.point_at_proxy(answer, self.server.target, self.server.url)
        if call.kind == "create" and answer.ok:
            faults.record_create(call, dialect.created_ids(call, answer))
        if call.is_list and answer.ok:
            page_size = faults.page_size
            answer, omitted, cut = dialect.shape_list(
                call, answer, faults.hidden_ids(), page_size, self.server.url
            )
            if omitted:
                faults.count("hidden_by_consistency")
            if cut:
                faults.count("small_page")
        if call.dialect == "nova":
            answer = nova.point_at_proxy(answer, self.server.target, self.server.url)
        if call.matches(faults.reset_calls) and faults.due("reset_after_forward", "reset"):
            faults.count("reset")
            self._reset()
            return None
        if call.kind == "create" and faults.due("late_creates", "late_create"):
            faults.count("late_create")
            self.server.stopping.wait(faults.late_by)
        return answer

    def _peer(self, call: Call, dialect) -> Answer:
        """The call as the peer answers it (with the dialect's rewrite of listings)."""
        path, body = call.path, call.body
        if dialect is not None:
            path, body = dialect.prepare(call, self.server.faults.page_size)
        if self.server.faults.delay:
            time.sleep(self.server.faults.delay)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        try:
            reply = requests.request(
                self.command,
                self.server.target + path,
                data=body,
                headers=headers,
                timeout=60,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            return Answer(502, f"peer unreachable: {exc}".encode())
        content_type = reply.headers.get("Content-Type") or "text/plain"
        extra = {k: v for k, v in reply.headers.items() if k.lower() == "retry-after"}
        return Answer(reply.status_code, reply.content, content_type, extra)

    def _send(self, answer: Answer) -> None:
        try:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)
        except OSError:  # the client gave up (a late answer after its timeout)
            self.close_connection = True

    def _reset(self) -> None:
        """Drop the connection with a TCP RST (SO_LINGER 0), not a clean FIN: the client
        sees 'connection reset by peer' with no answer at all."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()
            self.connection.close()

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def proxy(target: str, faults: Faults):
    """Serve the chaos proxy in front of `target` (a peer's base URL); yields its URL."""
    server = _Server(target, faults)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield server.url
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
