"""An external Inventory service over HTTP (JSON, bearer token).

The contract PCM expects, relative to the `base_url` option:

- `POST /names` with `{"cloud", "role", "environment", "pcm_id"}`, before a create:
  2xx with `{"name": "..."}`, the name reserved for that instance.
- `DELETE /names/{cloud}/{name}` when the create failed: 2xx, or 404 if unknown.
- `PUT /systems/{cloud}/{name}` with the system record once the instance exists: 2xx.
- `DELETE /systems/{cloud}/{name}` once the instance is deleted: 2xx, or 404 if unknown.

A call made for an API request (in the request or in its tasks) carries that request's id
in `X-Request-ID`, so that the Inventory's logs and PCM's can be matched.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

import requests

from providers import outbound, telemetry
from providers.inventory.base import Inventory, InventoryError, SystemRecord
from providers.options import Option

logger = logging.getLogger(__name__)


class HttpInventory(Inventory):
    """An Inventory service reached over HTTP with a bearer token."""

    key = "http"
    label = "External Inventory over HTTP"
    options = (
        Option(
            "base_url",
            "The service's URL, e.g. https://inventory.example/api",
            required=True,
            kind="url",
        ),
        Option("timeout", "Seconds before a call is abandoned (default 10)", kind="int"),
        Option("token", "Bearer token", required=True, secret=True),
    )

    def _call(self, method: str, path: str, body: dict | None = None) -> requests.Response:
        url = self.settings["base_url"].rstrip("/") + path
        headers = {"Authorization": f"Bearer {self.credentials['token']}"}
        request_id = telemetry.request_id_var.get()
        if request_id != "-":  # the id of the API request this call is made for
            headers["X-Request-ID"] = request_id
        # Every connection checked against the backend's address policy, no redirect followed.
        try:
            with outbound.session(self.outbound_policy) as session:
                response = session.request(
                    method,
                    url,
                    json=body,
                    headers=headers,
                    timeout=self.settings.get("timeout", 10),
                )
        except outbound.OutboundRefused as exc:
            raise InventoryError(
                f"The Inventory was not called: {exc.message}", transient=False
            ) from None
        except requests.Timeout:
            raise InventoryError("The Inventory did not answer in time", transient=True) from None
        except requests.RequestException:
            raise InventoryError("Cannot reach the Inventory", transient=True) from None
        if response.status_code >= 400 and not (method == "DELETE" and response.status_code == 404):
            # Its body reaches API clients only short and clean; the log has it whole.
            text = response.text
            if len(self.credentials["token"]) >= 4:
                text = text.replace(self.credentials["token"], "***")
            logger.warning(
                "The Inventory answered %s to %s %s: %r", response.status_code, method, path, text
            )
            raise InventoryError(
                f"The Inventory answered {response.status_code} to {method} {path}: "
                f"{outbound.short(text)}",
                transient=response.status_code >= 500 or response.status_code == 429,
            )
        return response

    @staticmethod
    def _path(kind: str, cloud: str, name: str) -> str:
        return f"/{kind}/{quote(cloud, safe='')}/{quote(name, safe='')}"

    def reserve(self, *, cloud: str, role: str, environment: str, pcm_id: str) -> str:
        body = {"cloud": cloud, "role": role, "environment": environment, "pcm_id": pcm_id}
        try:
            name = self._call("POST", "/names", body).json()["name"]
        except (ValueError, KeyError, TypeError):
            raise InventoryError("The Inventory's answer has no name", transient=False) from None
        if not isinstance(name, str) or not name:
            raise InventoryError("The Inventory's answer has no name", transient=False)
        return name

    def release(self, *, cloud: str, name: str) -> None:
        self._call("DELETE", self._path("names", cloud, name))

    def register(self, record: SystemRecord) -> None:
        self._call("PUT", self._path("systems", record.cloud, record.name), record.as_dict())

    def unregister(self, *, cloud: str, name: str) -> None:
        self._call("DELETE", self._path("systems", cloud, name))
