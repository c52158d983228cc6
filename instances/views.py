"""The instance API: /pcm_api/v2/clouds/{cloud}/instances and /pcm_api/v2/instances."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, viewsets
from rest_framework.response import Response
from rest_framework.reverse import reverse

from clouds.access import can_operate, cloud_for, visible_clouds
from instances import browsable, idempotency, leases, services
from instances.filters import AllInstancesFilter, InstanceFilter, InstanceFilterBackend
from instances.models import Instance, Orphan
from instances.serializers import (
    ActionSerializer,
    CreateSerializer,
    EventSerializer,
    InstanceSerializer,
    OrphanSerializer,
    PatchSerializer,
)
from pcm.auth import is_read_only
from pcm.errors import BadRequest, Forbidden

CONFLICT = OpenApiResponse(description="Not possible in the instance's status, or on this cloud")
UNAVAILABLE = OpenApiResponse(
    description="The cloud is disabled, cannot be reached or keeps failing, the Inventory "
    "cannot be reached, or the cloud's plugin is not installed"
)
# What one PATCH may change: one of these kinds.
PATCH_KINDS = (("status",), ("tags",), ("expires_at", "lease"))
PATCH_FIELDS = tuple(name for kind in PATCH_KINDS for name in kind)
BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _flag(request, name: str) -> bool:
    given = request.query_params.get(name)
    if given is None:
        return False
    if given.lower() not in BOOLEANS:
        raise BadRequest(f"{name} must be true or false")
    return BOOLEANS[given.lower()]


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise BadRequest("The request body must be a JSON object")
    return request.data


class InstanceViewSet(viewsets.GenericViewSet):
    """Instances of one cloud."""

    serializer_class = InstanceSerializer
    filter_backends = [InstanceFilterBackend]
    filterset_class = InstanceFilter
    lookup_url_kwarg = "instance"

    def get_queryset(self):
        """The cloud's instances if the user may see it, by the cloud's name: the access
        check is in the same query (list() tells an unknown cloud from an empty one)."""
        if getattr(self, "swagger_fake_view", False):
            return Instance.objects.none()
        return services.visible_instances(self.request.user, self.kwargs["cloud"])

    def get_object(self, *, operate: bool = False, why: str = "") -> Instance:
        """The instance, in a cloud the user may see (and act on, with `operate`; `why`
        says what needs it in the 403)."""
        if not operate:
            # The common read, by PCM id: cloud, access and instance in one query, of the
            # columns a read shows.
            found = services.instance_by_id(
                user=self.request.user,
                cloud_name=self.kwargs["cloud"],
                key=self.kwargs["instance"],
                only=InstanceSerializer.READS,
            )
            if found is not None:
                return found
        cloud = cloud_for(self.request.user, self.kwargs["cloud"], operate=operate, why=why)
        if operate and why and is_read_only(self.request):  # a GET that touches the cloud
            raise Forbidden(f"This API token is read-only: it may not {why}")
        return services.instance_get(cloud=cloud, key=self.kwargs["instance"])

    def browsable_page(self):
        """What the browsable API offers on this page (pcm/renderers.py)."""
        return browsable.page(self)

    def _location(self, instance: Instance) -> str:
        return reverse(
            "instance-detail",
            kwargs={"cloud": instance.cloud.name, "instance": str(instance.pk)},
            request=self.request,
        )

    def _accepted(self, instance: Instance) -> Response:
        data = InstanceSerializer(instance).data
        return Response(data, status=202, headers={"Location": self._location(instance)})

    @extend_schema(summary="Instances of the cloud, filtered and paginated")
    def list(self, request, cloud):
        """The cloud's instances, newest first, filtered by the query's terms (every term
        given must match) and paginated."""
        rows = self.filter_queryset(self.get_queryset()).values(*InstanceSerializer.READS)
        page = self.paginate_queryset(rows)
        if not page:  # no row said the cloud exists and is the user's to see
            cloud_for(request.user, cloud)
        return self.get_paginated_response(InstanceSerializer(page, many=True).data)

    @extend_schema(
        summary="Create an instance",
        request=CreateSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="Repeating a create with the same key and body on the same "
                "cloud within 24 h of the first returns the first answer instead of "
                "creating again (at most 255 characters)",
            )
        ],
        responses={
            202: InstanceSerializer,
            409: OpenApiResponse(
                description="The same Idempotency-Key is still in use, or the Inventory "
                "gave a name in use"
            ),
            422: OpenApiResponse(
                description="The Idempotency-Key was used with another body or cloud"
            ),
            503: UNAVAILABLE,
            507: OpenApiResponse(description="Above the cloud's limits or quotas"),
        },
    )
    def create(self, request, cloud):
        """Checks the request against the cloud's configuration at once (a 4xx or 5xx says
        what is wrong), records the instance as pending, and answers 202 with it and its
        Location; a worker then names it through the Inventory and calls the cloud."""
        cloud_obj = cloud_for(request.user, cloud, operate=True)
        data = _body(request)
        key = request.headers.get("Idempotency-Key", "").strip()
        record = None
        if key:
            claimed = idempotency.claim(user=request.user, cloud=cloud_obj, key=key, data=data)
            if isinstance(claimed, idempotency.Replay):
                return Response(
                    claimed.body,
                    status=claimed.status,
                    headers={"Location": self._location_of(claimed.body)},
                )
            record = claimed

        def remember(instance: Instance) -> None:
            if record is not None:
                body = InstanceSerializer(instance).data
                idempotency.complete(record, instance=instance, status=202, body=body)

        try:
            instance = services.instance_create(
                cloud=cloud_obj,
                user=request.user,
                data=data,
                request_id=request.id,
                on_created=remember,
            )
        except BaseException:
            if record is not None:
                idempotency.abandon(record)
            raise
        return self._accepted(instance)

    def _location_of(self, body: dict) -> str:
        return reverse(
            "instance-detail",
            kwargs={"cloud": body["cloud"], "instance": body["id"]},
            request=self.request,
        )

    @extend_schema(
        summary="One instance, by PCM id or by name",
        parameters=[
            OpenApiParameter("refresh", bool, description="Ask the cloud now (within its timeout)")
        ],
        responses={200: InstanceSerializer, 503: UNAVAILABLE},
    )
    def retrieve(self, request, cloud, instance):
        """The instance as PCM records it, by its PCM id or its name; with ?refresh=true,
        as the cloud reports it now (operator access)."""
        if not _flag(request, "refresh"):
            return Response(InstanceSerializer(self.get_object()).data)
        # A refresh calls the cloud and writes what it says: operate access, a live cloud.
        found = self.get_object(operate=True, why="ask the cloud (?refresh=true)")
        found = services.instance_refresh(instance=found, request_id=request.id)
        return Response(InstanceSerializer(found).data)

    @extend_schema(
        summary="Delete the instance",
        request=None,
        responses={202: InstanceSerializer, 409: CONFLICT, 503: UNAVAILABLE},
    )
    def destroy(self, request, cloud, instance):
        """Marks the instance deleting and answers 202; a worker deletes the node and the
        instance becomes deleted once the cloud no longer shows it."""
        found = services.instance_delete(
            instance=self.get_object(operate=True), user=request.user, request_id=request.id
        )
        return self._accepted(found)

    @extend_schema(
        summary="Reboot, stop or start: status reboot, stopped or running",
        request=ActionSerializer,
        responses={202: InstanceSerializer, 409: CONFLICT, 503: UNAVAILABLE},
    )
    def update(self, request, cloud, instance):
        """{"status": "reboot" | "stopped" | "running"}: 202, and a worker asks the cloud."""
        return self._act(self.get_object(operate=True), _body(request), ("status",))

    @extend_schema(
        summary="Reboot, stop or start (status, as PUT), replace the tags, or move the expiry",
        description='{"status": ...} answers 202 as PUT does; {"tags": {...}} replaces the '
        "instance's tags and answers 200 (its status is not touched; a cloud with tags of "
        'its own gets them in a moment); {"expires_at": "<ISO 8601 time>"} or {"lease": '
        '"PT8H"} (counted from now) moves the end of the lease within the maximum lease, '
        "null removes it where no maximum applies, and answers 200. One of these per request.",
        request=PatchSerializer,
        responses={
            200: InstanceSerializer,
            202: InstanceSerializer,
            409: CONFLICT,
            503: UNAVAILABLE,
        },
    )
    def partial_update(self, request, cloud, instance):
        target = self.get_object(operate=True)
        data = _body(request)
        asked = [kind for kind in PATCH_KINDS if set(kind) & set(data)]
        if len(asked) > 1 or len(set(data) & {"expires_at", "lease"}) > 1:
            raise BadRequest("Give one of status, tags, expires_at or lease per request")
        if not data:  # nothing asked: nothing changes
            return Response(InstanceSerializer(target).data)
        if not asked or asked[0] == ("status",):
            return self._act(target, data, PATCH_FIELDS)
        unknown = sorted(set(data) - set(asked[0]))
        if unknown:
            accepted = ", ".join(PATCH_FIELDS)
            raise BadRequest(f"Unknown field(s) {', '.join(unknown)}; accepted: {accepted}")
        if asked[0] == ("tags",):
            found = services.instance_set_tags(
                instance=target, tags=data["tags"], user=request.user, request_id=request.id
            )
        else:
            expires_at = leases.expiry_for_patch(target, data, timezone.now())
            found = services.instance_set_expiry(
                instance=target, expires_at=expires_at, user=request.user, request_id=request.id
            )
        return Response(InstanceSerializer(found).data)

    def _act(self, target: Instance, data: dict, accepted: tuple[str, ...]) -> Response:
        unknown = sorted(set(data) - set(accepted))
        if unknown:
            listed = ", ".join(accepted)
            raise BadRequest(f"Unknown field(s) {', '.join(unknown)}; accepted: {listed}")
        status = data.get("status")
        if not isinstance(status, str):
            raise BadRequest("status is required: one of reboot, stopped, running")
        found = services.instance_act(
            instance=target, status=status, user=self.request.user, request_id=self.request.id
        )
        return self._accepted(found)

    @extend_schema(
        summary="The instance's console log, as text",
        responses={(200, "text/plain"): OpenApiTypes.STR, 409: CONFLICT, 503: UNAVAILABLE},
    )
    def console_log(self, request, cloud, instance):
        """The cloud's console output of the instance (operator access)."""
        # Console output often holds what cloud-init printed, secrets included: operators only.
        found = self.get_object(operate=True, why="read console logs")
        text = services.instance_console(instance=found)
        return HttpResponse(text, content_type="text/plain; charset=utf-8")

    @extend_schema(
        summary="The instance's operations",
        responses=EventSerializer(many=True),
        filters=False,  # its page takes no instance filters
    )
    def events(self, request, cloud, instance):
        """What was asked of the instance and what became of it, oldest first: who, when,
        the action, its outcome and the provider's error if any."""
        found = self.get_object()
        page = self.paginate_queryset(found.events.all())
        return self.get_paginated_response(EventSerializer(page, many=True).data)


@extend_schema(
    summary="Instances of every cloud, filtered and paginated",
    description="The instances of every cloud the user may see, filtered by the query's "
    "terms (every term given must match, `cloud` among them) and paginated.",
)
class AllInstancesView(generics.ListAPIView):
    serializer_class = InstanceSerializer
    filter_backends = [InstanceFilterBackend]
    filterset_class = AllInstancesFilter
    queryset = Instance.objects.none()

    def get_queryset(self):
        clouds = visible_clouds(self.request.user)
        # Plain rows, as the cloud's own list reads them (InstanceSerializer.READS).
        return Instance.objects.filter(cloud__in=clouds).values(*InstanceSerializer.READS)


@extend_schema(
    summary="Nodes at the cloud that carry a PCM id but are no live instance's node",
    description="Seen by the last reconciliation: a node whose PCM id no instance has, "
    "whose instance is deleted, or a second node of a live instance (a duplicate) that "
    "PCM did not destroy. For staff and the cloud's operators.",
)
class OrphanListView(generics.ListAPIView):
    serializer_class = OrphanSerializer
    queryset = Orphan.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Orphan.objects.none()
        cloud = cloud_for(self.request.user, self.kwargs["cloud"])
        if not (self.request.user.is_staff or can_operate(self.request.user, cloud)):
            raise Forbidden(f"The orphans of cloud {cloud.name} are for staff and its operators")
        return Orphan.objects.filter(cloud=cloud).order_by("first_seen", "provider_id")
