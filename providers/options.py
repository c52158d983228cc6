"""How plugins (compute and Inventory) declare their options, and how those are checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from providers import outbound


class ConfigError(ValueError):
    """A cloud's options or credentials do not fit its plugin: {option name: message}."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


@dataclass(frozen=True)
class Option:
    """One setting a plugin takes. Secret options are the cloud's encrypted credentials."""

    name: str
    help: str = ""
    required: bool = False
    secret: bool = False
    # "str", "text" (a string of several lines: a PEM key), "int", "bool", "url", or "json"
    # (free-form: a JSON object or list the plugin reads itself; the admin shows JSON)
    kind: str = "str"
    choices: tuple[str, ...] = ()
    default: Any = None

    def clean(self, value: Any) -> Any:
        """The value converted to its kind, or ValueError with a message for the admin."""
        if self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError("must be a whole number")
            if value <= 0:
                raise ValueError("must be positive")
        elif self.kind == "bool":
            if not isinstance(value, bool):
                raise ValueError("must be true or false")
        elif self.kind == "json":
            if not isinstance(value, dict | list):
                raise ValueError("must be a JSON object or list")
        else:
            if not isinstance(value, str) or not value.strip():
                raise ValueError("must be a non-empty string")
            value = value.strip()
            if self.kind == "url":
                parts = urlsplit(value)
                if parts.scheme not in ("http", "https") or not parts.hostname:
                    raise ValueError("must be an http:// or https:// URL with a host")
                if _metadata_host(parts.hostname):
                    raise ValueError("must not point at a cloud metadata address")
        if self.choices and value not in self.choices:
            raise ValueError(f"must be one of {', '.join(self.choices)}")
        return value


def _clean(options: tuple[Option, ...], given: Any, what: str) -> dict[str, Any]:
    if not isinstance(given, dict):
        raise ConfigError({what: "must be a JSON object"})
    accepted = {option.name: option for option in options}
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for name in given:
        if name not in accepted:
            listing = ", ".join(sorted(accepted)) or "none"
            errors[name] = f"unknown {what[:-1]}; accepted: {listing}"
    for name, option in accepted.items():
        if given.get(name) in (None, ""):
            if option.required:
                errors[name] = f"required ({option.help})" if option.help else "required"
            continue
        try:
            cleaned[name] = option.clean(given[name])
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise ConfigError(errors)
    return cleaned


def _metadata_host(host: str) -> bool:
    """A cloud metadata service's name or address, refused whatever the cloud's policy
    (other address forms and names are resolved and checked by Configurable.outbound_refusals)."""
    if host.lower().rstrip(".") in outbound.METADATA_HOSTS:
        return True
    try:
        return outbound.address_refusal(host, outbound.Policy.of(outbound.WORDS)) is not None
    except ValueError:
        return False


class Configurable:
    """A plugin with declared options; the secret ones are the encrypted credentials."""

    options: ClassVar[tuple[Option, ...]] = ()

    @classmethod
    def public_options(cls) -> tuple[Option, ...]:
        return tuple(option for option in cls.options if not option.secret)

    @classmethod
    def secret_options(cls) -> tuple[Option, ...]:
        return tuple(option for option in cls.options if option.secret)

    @classmethod
    def validate_options(cls, options: Any) -> dict[str, Any]:
        """The (non-secret) options, cleaned; ConfigError lists what is wrong."""
        return _clean(cls.public_options(), options, "options")

    @classmethod
    def outbound_refusals(cls, options: dict[str, Any], policy: outbound.Policy) -> dict[str, str]:
        """{option name: why} for each URL option (cleaned) whose host resolves to an
        address `policy` refuses."""
        refusals = {}
        for option in cls.options:
            if option.kind == "url" and options.get(option.name):
                refusal = outbound.url_refusal(options[option.name], policy)
                if refusal:
                    refusals[option.name] = refusal
        return refusals

    @classmethod
    def validate_credentials(cls, credentials: Any) -> dict[str, Any]:
        """The credentials (the secret options), cleaned; ConfigError lists what is wrong."""
        return _clean(cls.secret_options(), credentials, "credentials")
