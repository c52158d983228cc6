"""The browsable API as a person uses it: forms prefilled with requests that work, crumbs
that name things, and links to what a page leads to.

A view may offer `browsable_page()` returning a BrowsablePage; views without one get DRF's
own pages. Only the raw JSON form is offered (PCM parses JSON only, so DRF shows no HTML
form), and DRF's ajax-form.js posts it as JSON, exactly as a client would.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from django.urls import Resolver404, resolve
from rest_framework import renderers
from rest_framework.exceptions import APIException

from pcm.errors import PCMError

WRITES = ("POST", "PUT", "PATCH", "DELETE")
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RawForm:
    """A raw JSON form's content and the help shown under it."""

    example: dict
    help: str = ""


@dataclass(frozen=True)
class BrowsablePage:
    """What a view's page offers beyond DRF's defaults."""

    writable: bool = True  # False: no form, no DELETE button (the user may only read)
    forms: dict[str, RawForm] = field(default_factory=dict)  # by method
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, url)
    crumbs: dict[str, str] = field(default_factory=dict)  # path -> label


def _crumb_label(path: str, default: str) -> str:
    """A path's name: "PCM API" for the root; an object's key for a detail route (the
    cloud's name, the size's name); else its last segment ("console_log": "Console log")."""
    try:
        match = resolve(path)
    except Resolver404:
        return default
    if match.url_name == "api-root":
        return "PCM API"
    last = unquote(path.rstrip("/").rsplit("/", 1)[-1])
    if last in match.kwargs.values():
        return last
    return last.replace("_", " ").capitalize()


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    template = "pcm/browsable_api.html"

    def _page_of(self, view) -> BrowsablePage:
        offer = getattr(view, "browsable_page", None)
        if offer is None:
            return BrowsablePage()
        try:
            return offer()
        except (PCMError, APIException):
            # The page is an error already (no such cloud or instance): offer nothing.
            return BrowsablePage(writable=False)
        except Exception:
            # The extras of a page must never turn a good answer into a 500.
            logger.exception("The browsable API's page of %s failed", type(view).__name__)
            return BrowsablePage(writable=False)

    def get_context(self, data, accepted_media_type, renderer_context):
        self.page = self._page_of(renderer_context["view"])
        context = super().get_context(data, accepted_media_type, renderer_context)
        if context["breadcrumblist"]:
            context["name"] = context["breadcrumblist"][-1][0]
        ok = renderer_context["response"].status_code < 400
        context["links"] = self.page.links if ok else []
        return context

    def show_form_for_method(self, view, method, request, obj):
        if method in WRITES and not self.page.writable:
            return False
        return super().show_form_for_method(view, method, request, obj)

    def get_raw_data_form(self, data, view, method, request):
        form = super().get_raw_data_form(data, view, method, request)
        offered = self.page.forms.get(method)
        if form is not None and offered is not None:
            content = form.fields["_content"]
            content.initial = json.dumps(offered.example, indent=4)
            content.help_text = offered.help
        return form

    def get_breadcrumbs(self, request):
        crumbs = []
        for name, url in super().get_breadcrumbs(request):
            path = urlsplit(url).path
            crumbs.append((self.page.crumbs.get(path) or _crumb_label(path, name), url))
        return crumbs
