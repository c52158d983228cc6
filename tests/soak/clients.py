"""API clients that take instances through their whole life, as a script would: create,
wait running, reboot, wait running, (stop, wait stopped, start, wait running where the cloud
can), delete, wait deleted. Through the real HTTP API of a live server, with a token.

A client does what a careful script does with PCM's answers: a create refused for a quota
(507) or an unusable cloud (503) is sent again a little later; an action that came back
with `last_error` (the cloud failed it) is asked again; an instance that ends in `error`
is deleted (delete is allowed from error) and must reach `deleted` all the same.
"""

from __future__ import annotations

import random
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field

import requests

STABLE = {"running", "stopped", "error", "deleted"}
# PUT body status and the status a successful action ends in.
ACTIONS = {
    "reboot": ("reboot", "running"),
    "stop": ("stopped", "stopped"),
    "start": ("running", "running"),
}
POLL = 1.0  # seconds between two looks at an instance
CREATE_WAIT = 150  # PCM_BUILD_TIMEOUT (120) and some
STEP_WAIT = 90
TRIES = 4  # of one action, or of a delete
# A life started before the clients' deadline may take this much longer to end: a slow
# cloud's last life is not cut short in its delete (and then counted as stuck).
FINISH_SECONDS = 240


@dataclass
class Lifecycle:
    cloud: str
    number: int
    id: str = ""
    created: str = ""  # the status the create ended in: running or error
    create_error: str = ""  # its last_error when it ended in error
    console: int = 0  # the HTTP status of its console_log, asked once it ran
    steps: list[str] = field(default_factory=list)  # "reboot ok", "stop retried", ...
    refusals: Counter = field(default_factory=Counter)  # HTTP status of refused requests
    conflicts: Counter = field(default_factory=Counter)  # what the 409s said
    stale: list[str] = field(default_factory=list)  # an action accepted, then undone
    stuck: list[str] = field(default_factory=list)  # waits that ran out, with the status
    final: str = ""  # deleted when the life is over
    seconds: float = 0.0

    @property
    def full(self) -> bool:
        """Every step of the cloud's life went through (not cut short by an error)."""
        return self.created == "running" and all(step.endswith("ok") for step in self.steps)


class Client:
    """One API user's session (each client has a token of its own: PCM throttles per user)."""

    def __init__(self, base_url: str, token: str, cloud: str, actions: list[str], seed: int):
        self.url = f"{base_url}/pcm_api/v2/clouds/{cloud}/instances"
        self.cloud = cloud
        self.actions = actions
        self.random = random.Random(seed)  # noqa: S311 (jitter)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"
        self.deadline = float("inf")  # no life is started after it
        self.give_up_at = float("inf")  # a life started before the deadline ends by this
        self.server_errors: list[str] = []  # HTTP 500 answers (shared by the fleet)

    def close(self) -> None:
        self.session.close()

    def _request(self, method: str, path: str = "", **kwargs) -> requests.Response:
        for attempt in range(20):
            try:
                answer = self.session.request(method, self.url + path, timeout=60, **kwargs)
            except requests.RequestException:
                time.sleep(0.5 * (attempt + 1))
                continue
            if answer.status_code == 429:  # PCM's own throttle (per user): wait, again
                time.sleep(float(answer.headers.get("Retry-After") or 1))
                continue
            if answer.status_code == 500 and attempt < 3:  # PCM failed: noted, asked again
                self.server_errors.append(f"{method} {path or '/'}: {answer.text[:200]}")
                time.sleep(1)
                continue
            return answer
        raise AssertionError(f"{method} {self.url}{path}: the live server did not answer")

    def _sleep(self) -> None:
        time.sleep(POLL * self.random.uniform(0.7, 1.3))

    def get(self, pk: str) -> dict:
        answer = self._request("GET", f"/{pk}")
        assert answer.status_code == 200, (answer.status_code, answer.text[:300])
        return answer.json()

    def wait_stable(self, life: Lifecycle, seconds: float, what: str) -> dict:
        """Look until the instance's status is stable (running, stopped, error, deleted)."""
        until = min(time.monotonic() + seconds, self.give_up_at)
        while True:
            body = self.get(life.id)
            if body["status"] in STABLE:
                return body
            if time.monotonic() > until:
                life.stuck.append(f"{what}: still {body['status']}")
                return body
            self._sleep()

    # -- a whole life ---------------------------------------------------------------------

    def live(self, life: Lifecycle) -> Lifecycle:
        started = time.monotonic()
        try:
            if not self._create(life):
                return life
            body = self.wait_stable(life, CREATE_WAIT, "create")
            life.created = body["status"]
            life.create_error = body["last_error"] if body["status"] == "error" else ""
            if body["status"] == "running":
                life.console = self._request("GET", f"/{life.id}/console_log").status_code
                for action in self.actions:
                    if not self._act(life, action):
                        break
            self._delete(life)
        finally:
            life.seconds = time.monotonic() - started
        return life

    def _create(self, life: Lifecycle) -> bool:
        while time.monotonic() < self.deadline:
            answer = self._request("POST", json={"size": "small"})
            if answer.status_code == 202:
                life.id = answer.json()["id"]
                return True
            # 507: the cloud's quota is full (others' instances); 503: the cloud is not
            # usable just now (circuit breaker, failed check). Both pass: ask again.
            assert answer.status_code in (503, 507), (answer.status_code, answer.text[:300])
            life.refusals[answer.status_code] += 1
            time.sleep(self.random.uniform(0.5, 1.5))
        life.stuck.append("create: never accepted")
        return False

    def _act(self, life: Lifecycle, action: str) -> bool:
        """The action until it succeeds; False when the instance ended elsewhere (error)
        and its life goes on to delete. A stop or a start has succeeded when the instance
        shows the status it was to reach (its last_error may tell of a call that failed
        after the cloud had carried it out); a reboot, when it runs again without an error.

        An accepted action whose instance then shows another stable status and no error
        was overwritten by an older look at the cloud (its own failure would say why in
        last_error): that is noted as a stale status."""
        put, target = ACTIONS[action]
        for attempt in range(1, TRIES + 1):
            answer = self._request("PUT", f"/{life.id}", json={"status": put})
            if answer.status_code == 409:  # not in the status the action starts from (yet)
                reason = _reason(answer)
                life.refusals[409] += 1
                life.conflicts[f"{action}: {reason}"] += 1
                if action != "reboot" and reason.startswith(f"{target}:"):
                    life.steps.append(f"{action} ok after {attempt} (409: {target} already)")
                    return True
            else:
                assert answer.status_code == 202, (answer.status_code, answer.text[:300])
            body = self.wait_stable(life, STEP_WAIT, action)
            reached = body["status"] == target and (action != "reboot" or not body["last_error"])
            if answer.status_code == 202 and reached:
                life.steps.append(
                    f"{action} ok" if attempt == 1 else f"{action} ok after {attempt}"
                )
                return True
            if answer.status_code == 202 and body["status"] in STABLE and not body["last_error"]:
                life.stale.append(f"{action} accepted, then shown {body['status']}")
            if body["status"] not in ("running", "stopped"):
                life.steps.append(f"{action} ended {body['status']}")
                return False
        life.steps.append(f"{action} failed {TRIES} times")
        return False

    def _delete(self, life: Lifecycle) -> None:
        for _ in range(TRIES):
            answer = self._request("DELETE", f"/{life.id}")
            if answer.status_code == 409:  # deleting (a delete is under way) or deleted
                life.refusals[409] += 1
                life.conflicts[f"delete: {_reason(answer)}"] += 1
            else:
                assert answer.status_code == 202, (answer.status_code, answer.text[:300])
            body = self.wait_stable(life, CREATE_WAIT, "delete")
            life.final = body["status"]
            if body["status"] == "deleted":
                return
            if body["status"] != "error" and body["status"] in STABLE:
                life.steps.append(f"delete ended {body['status']}")


def _reason(answer: requests.Response) -> str:
    """A 409's message without the instance's name: "is stopping: only a running ..."."""
    message = answer.json().get("message", "")
    return message.split(" is ", 1)[-1][:80] if message.startswith("Instance ") else message[:80]


class Fleet:
    """Client threads per cloud, each taking the cloud's next life until all are lived."""

    def __init__(self, base_url: str, seed: int):
        self.base_url = base_url
        self.seed = seed
        self.lock = threading.Lock()
        self.lives: list[Lifecycle] = []
        self.errors: list[str] = []
        self.server_errors: list[str] = []  # PCM's 500 answers: each one is a bug
        self._next: dict[str, int] = {}
        self.threads: list[threading.Thread] = []

    def plan(self, cloud: str, lives: int, tokens: list[str], actions: list[str], deadline: float):
        self._next[cloud] = 0
        for index, token in enumerate(tokens):
            seed = zlib.crc32(f"{self.seed}-{cloud}-{index}".encode())
            client = Client(self.base_url, token, cloud, actions, seed)
            client.deadline = deadline
            client.give_up_at = deadline + FINISH_SECONDS
            client.server_errors = self.server_errors
            thread = threading.Thread(
                target=self._work, args=(client, lives), name=f"soak-{cloud}-{index}", daemon=True
            )
            self.threads.append(thread)

    def _take(self, cloud: str, lives: int) -> Lifecycle | None:
        with self.lock:
            number = self._next[cloud]
            if number >= lives:
                return None
            self._next[cloud] = number + 1
            return Lifecycle(cloud, number)

    def _work(self, client: Client, lives: int) -> None:
        try:
            while time.monotonic() < client.deadline:
                life = self._take(client.cloud, lives)
                if life is None:
                    return
                with self.lock:
                    self.lives.append(life)
                client.live(life)
        except BaseException as exc:
            with self.lock:
                self.errors.append(f"{client.cloud}: {type(exc).__name__}: {exc}")
        finally:
            client.close()

    def run(self) -> None:
        for thread in self.threads:
            thread.start()
        for thread in self.threads:
            thread.join()
