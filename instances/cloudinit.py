"""SSH keys and user data, delivered the same way on every cloud: as cloud-init user data.

A client's `ssh_keys` become a `#cloud-config` part with `ssh_authorized_keys`; with the
client's own `user_data` as well, the two go as one multipart MIME message, which
cloud-init reads part by part (its documentation: "User data formats", "Merging user data
sections"). The result must fit EC2's limit of 16 KiB.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import struct
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from pcm.errors import BadRequest

MAX_KEYS = 16
MAX_KEY_LENGTH = 16 * 1024  # an RSA key of 16384 bits is about 2.8 KiB
USER_DATA_LIMIT = 16 * 1024  # bytes, after combining: EC2's limit

# OpenSSH's public key types (ssh-dss is gone from OpenSSH 10).
KEY_TYPES = frozenset(
    {
        "ssh-rsa",
        "ssh-ed25519",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
    }
)
_KEY_LINE = re.compile(
    r"(?P<type>\S+) (?P<body>[A-Za-z0-9+/]+={0,2})(?: (?P<comment>[^\x00-\x1f\x7f]*))?"
)

# cloud-init's merge rule for PCM's part: the keys are added to any the client's own
# #cloud-config lists, not put in their place.
_MERGE = [
    {"name": "list", "settings": ["append"]},
    {"name": "dict", "settings": ["no_replace", "recurse_list"]},
]
# The MIME type cloud-init gives a part, from its first line (a part that is text/plain is
# typed by cloud-init itself the same way).
_STARTS = (
    ("#cloud-config", "cloud-config"),
    ("#!", "x-shellscript"),
    ("#include", "x-include-url"),
    ("#cloud-boothook", "cloud-boothook"),
    ("## template: jinja", "jinja2"),
)


def clean_ssh_keys(value) -> list[str]:
    """The client's `ssh_keys`: a list of OpenSSH public keys, each checked."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(key, str) for key in value):
        raise BadRequest('ssh_keys must be a list of OpenSSH public keys ("ssh-ed25519 AAAA...")')
    if len(value) > MAX_KEYS:
        raise BadRequest(f"ssh_keys: at most {MAX_KEYS} keys, {len(value)} given")
    return [_clean_key(index, key.strip()) for index, key in enumerate(value)]


def _clean_key(index: int, key: str) -> str:
    where = f"ssh_keys[{index}]"
    if len(key) > MAX_KEY_LENGTH:
        raise BadRequest(f"{where}: longer than {MAX_KEY_LENGTH} characters")
    match = _KEY_LINE.fullmatch(key)
    if match is None:
        raise BadRequest(
            f"{where} is not an OpenSSH public key: expected '<type> <base64> [comment]' "
            "on one line, as in a .pub file"
        )
    key_type = match["type"]
    if key_type not in KEY_TYPES:
        raise BadRequest(
            f"{where}: unknown key type {key_type[:40]!r}; accepted: {', '.join(sorted(KEY_TYPES))}"
        )
    try:
        blob = base64.b64decode(match["body"], validate=True)
        (length,) = struct.unpack(">I", blob[:4])
        named = blob[4 : 4 + length].decode("ascii")
    except (binascii.Error, struct.error, UnicodeDecodeError):
        named = None
    if named != key_type:  # the key's own first field names its type
        raise BadRequest(f"{where}: the base64 body is not a {key_type} key")
    return key


def clean_user_data(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest("user_data must be a string: a #cloud-config document or a script")
    return value


def combined(ssh_keys: list[str], user_data: str) -> str:
    """What the cloud is sent as user data ("" for nothing); BadRequest above the limit."""
    keys_part = _keys_config(ssh_keys) if ssh_keys else ""
    if keys_part and user_data:
        message = MIMEMultipart()
        message.attach(_part(user_data, "user-data"))
        message.attach(_part(keys_part, "pcm-ssh-keys"))
        text = message.as_string()
    else:
        text = keys_part or user_data
    size = len(text.encode())
    if size > USER_DATA_LIMIT:
        what = "user_data with the ssh_keys" if keys_part and user_data else "user_data"
        raise BadRequest(
            f"{what} comes to {size} bytes; the limit is {USER_DATA_LIMIT} bytes (16 KiB, "
            "EC2's), the SSH keys' cloud-config and its MIME wrapping included"
        )
    return text


def _keys_config(ssh_keys: list[str]) -> str:
    # JSON is YAML: each key quoted, whatever its comment holds.
    lines = ["#cloud-config", "ssh_authorized_keys:"]
    lines += [f"  - {json.dumps(key)}" for key in ssh_keys]
    lines.append(f"merge_how: {json.dumps(_MERGE)}")
    return "\n".join(lines) + "\n"


def _part(text: str, filename: str) -> MIMEText:
    subtype = next((kind for start, kind in _STARTS if text.startswith(start)), "plain")
    # Plain ASCII travels as it is; other text base64-encoded (cloud-init decodes both).
    part = MIMEText(text, subtype, "us-ascii" if text.isascii() else "utf-8")
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part
