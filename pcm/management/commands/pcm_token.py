"""`manage.py pcm_token create|list|revoke`: API tokens from the shell (docs/api.md).

A new token's key is printed once and kept nowhere; `list` shows prefixes, never keys.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, CommandError

from pcm.errors import PCMError
from pcm.models import ApiToken
from pcm.tokens import create_token, find_tokens, is_expired, parse_lifetime


class Command(BaseCommand):
    help = "Create, list and revoke API tokens. A new token's key is printed once."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Make a token and print its key, once.")
        create.add_argument("username")
        create.add_argument("--name", default="", help="What or who uses it.")
        create.add_argument(
            "--read-only", action="store_true", help="It may only GET, HEAD and OPTIONS."
        )
        create.add_argument(
            "--expires",
            metavar="LIFETIME",
            help="30d, 12h or never (default: PCM_TOKEN_TTL_DAYS days).",
        )
        listing = actions.add_parser("list", help="Show tokens: prefix, scope, expiry.")
        listing.add_argument("username", nargs="?", help="Only this user's.")
        revoke = actions.add_parser("revoke", help="Delete a token: it stops working at once.")
        revoke.add_argument("token", help="Its id or its prefix (8 characters or more).")

    def handle(self, *args, action, **options):
        try:
            getattr(self, action)(**options)
        except PCMError as exc:
            raise CommandError(exc.message) from None

    def create(self, *, username, name, read_only, expires, **options) -> None:
        user = self.user(username)
        lifetime = {} if expires is None else {"lifetime": parse_lifetime(expires)}
        token, key = create_token(user, name=name, read_only=read_only, **lifetime)
        expiry = f"expires {token.expiry:%Y-%m-%d %H:%M} UTC" if token.expiry else "never expires"
        scope = "read-only" if read_only else "read-write"
        self.stderr.write(
            f"Token {token.id} of {username} ({scope}, {expiry}); its key, shown only now:"
        )
        self.stdout.write(key)

    def list(self, *, username, **options) -> None:
        tokens = ApiToken.objects.select_related("user")
        if username:
            tokens = tokens.filter(user=self.user(username))
        header = f"{'id':>5}  {'prefix':15}  {'user':15}  {'scope':10}  {'expiry':17}  name"
        self.stdout.write(header)
        for token in tokens:
            expiry = f"{token.expiry:%Y-%m-%d %H:%M}" if token.expiry else "never"
            if is_expired(token):
                expiry += " (expired)"
            scope = "read-only" if token.read_only else "read-write"
            self.stdout.write(
                f"{token.id:>5}  {token.token_key:15}  {token.user.get_username():15}  "
                f"{scope:10}  {expiry:17}  {token.name}"
            )

    def revoke(self, *, token, **options) -> None:
        tokens = list(find_tokens(token))
        if not tokens:
            raise CommandError(f"No token {token!r}")
        if len(tokens) > 1:
            raise CommandError(f"{len(tokens)} tokens start with {token!r}: name one by its id")
        revoked = f"{tokens[0].id} ({tokens[0].token_key}...)"
        tokens[0].delete()
        self.stdout.write(f"Revoked token {revoked}.")

    def user(self, username: str):
        try:
            return get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user {username!r}") from None
