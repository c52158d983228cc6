"""What every plugin-backed row (a cloud, an Inventory backend) has: encrypted credentials
and the addresses it may connect to."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from clouds import crypto
from providers import outbound
from providers.apps import site_allowances
from providers.base import ConfigError


class EncryptedCredentials(models.Model):
    """Credentials kept encrypted (clouds/crypto.py) in `credentials_encrypted`."""

    credentials_encrypted = models.TextField(blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def credentials(self) -> dict[str, Any]:
        """The decrypted credentials; never log or serialize them."""
        if not self.credentials_encrypted:
            return {}
        return crypto.decrypt(self.credentials_encrypted)

    @credentials.setter
    def credentials(self, value: dict[str, Any]) -> None:
        self.credentials_encrypted = crypto.encrypt(value) if value else ""


def _default_outbound_allow() -> list[str]:
    return list(outbound.DEFAULT_ALLOW)


class OutboundAllowed(models.Model):
    """Where the URLs of a cloud or an Inventory may be: public addresses, and the ranges
    `outbound_allow` lists (providers/outbound.py). Checked on save and on every connection."""

    outbound_allow = models.JSONField(
        default=_default_outbound_allow,
        blank=True,
        help_text="Address ranges its URLs may be at besides public addresses, as a JSON list "
        f"of {', '.join(outbound.WORDS)} (blank: public addresses only; cloud metadata "
        "addresses never)",
    )

    class Meta:
        abstract = True

    @property
    def outbound_policy(self) -> outbound.Policy:
        """This object's allowances and the site's (PCM_OUTBOUND_ALLOW, DEBUG)."""
        return outbound.Policy.of(self.outbound_allow or [], site_allowances())

    def clean_options(self, plugin: Any) -> None:
        """The plugin's options, cleaned, and their URLs' addresses; ValidationError on
        "options" (or "outbound_allow") otherwise."""
        try:
            self.options = plugin.validate_options(self.options)
        except ConfigError as exc:
            messages = [f"{name}: {message}" for name, message in exc.errors.items()]
            raise ValidationError({"options": messages}) from None
        self.clean_outbound(plugin)

    def clean_outbound(self, plugin: Any) -> None:
        """ValidationError when outbound_allow is not a list of known words, or a URL option
        resolves to an address it does not allow."""
        if self.outbound_allow is None:  # a blank form field
            self.outbound_allow = []
        given = self.outbound_allow
        if not isinstance(given, list) or not all(isinstance(word, str) for word in given):
            raise ValidationError(
                {"outbound_allow": f"A JSON list of {', '.join(outbound.WORDS)}, or blank"}
            )
        try:
            policy = self.outbound_policy
        except ValueError as exc:
            raise ValidationError({"outbound_allow": str(exc).capitalize()}) from None
        refusals = plugin.outbound_refusals(self.options, policy)
        if refusals:
            raise ValidationError({"options": [f"{name}: {why}" for name, why in refusals.items()]})
