"""The API's one parser: JSON, with NUL characters refused (pcm.nul)."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from pcm import nul


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        place = nul.where_in(data)
        if place:
            raise ParseError(nul.message(f"field {place}"))
        return data
