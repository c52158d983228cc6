"""knox's token authentication, less a query per request (imported by pcm.auth on first use:
knox's module needs the app registry ready)."""

from __future__ import annotations

from django.utils import timezone
from knox.auth import TokenAuthentication


class KnoxAuthentication(TokenAuthentication):
    def _cleanup_token(self, auth_token) -> bool:
        """Whether the token has expired (it is deleted then, as knox does).

        knox would also load every other token of the user, on each request, to delete
        the expired ones: a query per request for rows that harm nobody (an expired token
        is refused all the same; `pcm_token list` and the admin show it expired).
        """
        if auth_token.expiry is not None and auth_token.expiry <= timezone.now():
            auth_token.delete()
            return True
        return False
