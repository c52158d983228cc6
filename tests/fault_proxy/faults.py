"""What the chaos proxy injects and what it saw: one `Faults` per proxy, shared between the
test (which sets faults at any moment, from any thread) and the proxy's handler threads.

Every fault is off by default, so a proxy with a fresh `Faults` only forwards and records.
Counted faults (`throttle_next`, `errors_next`, `late_creates`, `reset_after_forward`) hit
the next N matching calls; `randomly()` makes each call roll per kind instead, for soak
tests; `injected` counts every fault by kind, so a test can say what it survived.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

from tests.fault_proxy.dialect import Answer, Call

# The kinds `randomly()` takes and what each does (the keys of `injected` differ a little:
# an "errors" roll is counted "error_5xx", a hidden node "hidden_by_consistency").
RANDOM_KINDS = ("consistency", "late_create", "reset", "errors", "throttle")


class _Pending:
    """A RunInstances with a client token, in flight at the peer or answered."""

    def __init__(self):
        self.done = threading.Event()
        self.answer: Answer | None = None


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        # -- faults (all off) --------------------------------------------------------------
        self.throttle_next = 0  # answer this many calls as throttled (EC2 503, Nova 429)
        self.delay = 0.0  # seconds added before each forwarded request
        self.consistency_delay = 0.0  # a created node is invisible this long after its create
        self.late_creates = 0  # hold back the answers of this many creates...
        self.late_by = 10.0  # ...by this many seconds (more than the client's timeout)
        self.reset_after_forward = 0  # reset the connection of this many forwarded calls...
        self.reset_calls = "write"  # ...of this kind: "create", "write", "read" or "any"
        self.errors_next = 0  # answer this many calls with a 5xx, without forwarding them
        self.error_status = 503  # ...this one (500 and 503 have their dialect's bodies)
        self.page_size: int | None = None  # listings come in pages of at most this many
        self.honour_client_tokens = True  # a repeated EC2 ClientToken gets the first answer
        # -- what the proxy saw --------------------------------------------------------------
        self.requests = 0  # every request, faulted or not
        self.throttled = 0  # throttled answers given
        self.seen: list[tuple[str, str]] = []  # (action, ClientToken) of each request
        self.created: list[tuple[str, str, str]] = []  # (dialect, pcm_id, node id) at the peer
        self.injected: Counter[str] = Counter()  # faults injected, by kind
        # -- machinery -------------------------------------------------------------------------
        self._rates: dict[str, float] = {}
        self._random = random.Random()  # noqa: S311 (fault dice, not secrets)
        self._hidden: dict[str, float] = {}  # node id -> monotonic end of its invisibility
        self._tokens: dict[str, _Pending] = {}

    # -- for tests ---------------------------------------------------------------------------

    def tokens(self, action: str) -> list[str]:
        """The client tokens of the requests of one EC2 action, in order."""
        with self.lock:
            return [token for name, token in self.seen if name == action]

    def creates(self, pcm_id: str) -> int:
        """How many creates carrying this PCM id reached the peer and made a node."""
        return self.create_counts()[pcm_id]

    def create_counts(self) -> Counter[str]:
        """Nodes made at the peer per PCM id (a count above 1 is a duplicate)."""
        with self.lock:
            return Counter(pcm_id for _, pcm_id, _ in self.created)

    def randomly(self, rates: dict[str, float] | None = None, seed: int | None = None) -> None:
        """Roll the dice on every call: `rates` maps a kind of RANDOM_KINDS to its
        probability per call ("late_create" and "consistency" per create; "reset" per call
        of `reset_calls`). Consistency hides nodes for `consistency_delay`, late answers
        wait `late_by`, errors are `error_status`. No rates: random mode off."""
        unknown = set(rates or ()) - set(RANDOM_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {RANDOM_KINDS}")
        with self.lock:
            self._rates = dict(rates or {})
            self._random.seed(seed)

    def hidden_ids(self) -> set[str]:
        """Nodes invisible now (created less than consistency_delay ago)."""
        now = time.monotonic()
        with self.lock:
            return {node for node, until in self._hidden.items() if until > now}

    # -- for the proxy ------------------------------------------------------------------------

    def note(self, call: Call) -> None:
        with self.lock:
            self.requests += 1
            self.seen.append((call.action, call.token))

    def count(self, kind: str) -> None:
        with self.lock:
            self.injected[kind] += 1
            if kind == "throttle":
                self.throttled += 1

    def due(self, counter: str, kind: str) -> bool:
        """Whether this call gets a fault: one of the next N (the counter goes down) or, in
        random mode, a roll of the dice."""
        with self.lock:
            left = getattr(self, counter)
            if left > 0:
                setattr(self, counter, left - 1)
                return True
            rate = self._rates.get(kind, 0.0)
            return rate > 0 and self._random.random() < rate

    def record_create(self, call: Call, node_ids: list[str]) -> None:
        """A create reached the peer and made these nodes: write them down and, with
        eventual consistency on, hide them for consistency_delay from now."""
        with self.lock:
            rate = self._rates.get("consistency")
            hide = self.consistency_delay > 0 and (
                rate is None or (rate > 0 and self._random.random() < rate)
            )
            until = time.monotonic() + self.consistency_delay
            for node in node_ids:
                self.created.append((call.dialect, call.pcm_id, node))
                if hide:
                    self._hidden[node] = until

    def claim_token(self, token: str) -> Answer | None:
        """The first answer to this client token, waiting for it while the first call is
        at the peer; None when this call is the first (it must settle_token())."""
        while True:
            with self.lock:
                pending = self._tokens.get(token)
                if pending is None:
                    self._tokens[token] = _Pending()
                    return None
            pending.done.wait(60)
            if pending.answer is not None:
                return pending.answer
            # The first call failed: the token is free again, and this call may take it.

    def settle_token(self, token: str, answer: Answer | None) -> None:
        with self.lock:
            pending = self._tokens[token]
            if answer is not None and answer.ok:
                pending.answer = answer
            else:
                del self._tokens[token]
        pending.done.set()
