"""How the OpenAPI document describes PCM's token authentication (pcm.auth).

Loaded by PcmConfig.ready(): drf-spectacular finds an extension once its class exists.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "pcm.auth.ApiTokenAuthentication"
    name = "tokenAuth"  # the name DRF's own token authentication had in the document

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'An API token, with the prefix "Token": `Token <key>`. A read-only '
            "token may only GET, HEAD and OPTIONS.",
        }
