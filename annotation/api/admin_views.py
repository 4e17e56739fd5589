"""Endpoints for admins (campaigns, imports, pools, raters, audit) and ML engineers (reads,
export). Every queryset is scoped in get_queryset(); views call one service each."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.api import admin_serializers as s
from annotation.exporting import (
    EXPORT_FORMATS,
    Export,
    audited_export,
    export_details,
    render_export,
)
from annotation.models import AuditEvent, Campaign, Judgment, RaterPool
from annotation.selectors.campaigns import campaigns_with_progress, judgments_with_raters
from annotation.selectors.consensus import iter_consensus_rows
from annotation.selectors.preferences import PreferenceFilter, iter_preference_rows
from annotation.selectors.raters import rater_row, rater_rows
from annotation.services.campaigns import create_campaign, update_campaign
from annotation.services.importing import import_file
from annotation.services.pools import (
    change_pool_campaigns,
    change_pool_members,
    create_pool,
    delete_pool,
    update_pool,
)
from annotation.services.raters import (
    change_role,
    create_rater,
    delete_rater,
    pause_rater,
    resume_rater,
)
from common.permissions import IsAdmin, IsAdminOrMLEngineer, acting_user


class CampaignViewSet(
    mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Campaigns with their progress. ML engineers read; admins also create and edit."""

    serializer_class = s.CampaignSerializer

    def get_permissions(self) -> list[Any]:
        return [IsAdminOrMLEngineer()] if self.action in ("list", "retrieve") else [IsAdmin()]

    def get_queryset(self) -> QuerySet[Campaign]:
        return campaigns_with_progress()

    # The mixins validate and render through the serializer; the writes are the services'.
    def perform_create(self, serializer: Any) -> None:
        serializer.instance = create_campaign(
            actor=acting_user(self.request), settings=serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        campaign = update_campaign(
            actor=acting_user(self.request),
            campaign=serializer.instance,
            changes=serializer.validated_data,
        )
        # Read back with its progress: a new overlap may have completed tasks.
        serializer.instance = self.get_queryset().get(pk=campaign.pk)


class CampaignImportView(APIView):
    """Upload a JSONL or CSV file (optionally .gz). All rows are written, or none."""

    permission_classes = [IsAdmin]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request=s.ImportInSerializer,
        responses={201: s.ImportReportSerializer, 400: s.ImportRejectedSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        campaign = generics.get_object_or_404(Campaign, pk=pk)
        data = s.ImportInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        # One byte over the limit is enough for import_file to refuse the file.
        content = upload.read(settings.IMPORT_MAX_BYTES + 1)
        report = import_file(
            actor=acting_user(request),
            campaign=campaign,
            data=content,
            filename=upload.name,
            source=data.validated_data.get("source", ""),
        )
        if report.is_ok:
            return Response(s.ImportReportSerializer(report).data, status=status.HTTP_201_CREATED)
        rejected = {
            "code": "import_rejected",
            "detail": f"{len(report.errors)} bad rows; nothing was imported.",
            **vars(report),
        }
        return Response(
            s.ImportRejectedSerializer(rejected).data, status=status.HTTP_400_BAD_REQUEST
        )


class PoolViewSet(viewsets.ModelViewSet):
    permission_classes = [IsAdmin]
    serializer_class = s.PoolSerializer
    queryset = RaterPool.objects.prefetch_related("members", "campaigns").order_by("name")

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = create_pool(
            actor=acting_user(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = update_pool(
            actor=acting_user(self.request),
            pool=serializer.instance,
            changes=serializer.validated_data,
        )

    def perform_destroy(self, instance: RaterPool) -> None:
        delete_pool(actor=acting_user(self.request), pool=instance)


class _PoolChangeView(APIView):
    permission_classes = [IsAdmin]
    change = staticmethod(change_pool_members)

    @extend_schema(request=s.MembershipChangeSerializer, responses=s.PoolSerializer)
    def post(self, request: Request, pk: int) -> Response:
        pool = generics.get_object_or_404(RaterPool, pk=pk)
        data = s.MembershipChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        self.change(actor=acting_user(request), pool=pool, **data.validated_data)
        return Response(s.PoolSerializer(RaterPool.objects.get(pk=pk)).data)


class PoolMembersView(_PoolChangeView):
    """Add and remove raters (user ids)."""

    change = staticmethod(change_pool_members)


class PoolCampaignsView(_PoolChangeView):
    """Allow or withdraw campaigns for the pool's raters."""

    change = staticmethod(change_pool_campaigns)


class RaterListView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses=s.RaterSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(s.RaterSerializer(rater_rows(), many=True).data)

    @extend_schema(request=s.RaterCreateSerializer, responses={201: s.RaterSerializer})
    def post(self, request: Request) -> Response:
        data = s.RaterCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = create_rater(actor=acting_user(request), **data.validated_data)
        body = s.RaterSerializer(rater_row(user_id=user.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)


class RaterDetailView(APIView):
    """DELETE removes a rater who has never judged; one who has is refused with 409
    rater_has_judgments (pause them instead: their judgments are data)."""

    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        delete_rater(actor=acting_user(request), user_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RaterRoleView(APIView):
    """Change a rater's role (annotator, ml_engineer or admin), audited with the old and new."""

    permission_classes = [IsAdmin]

    @extend_schema(request=s.RoleInSerializer, responses=s.RaterSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = s.RoleInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change_role(actor=acting_user(request), user_id=pk, role=data.validated_data["role"])
        return Response(s.RaterSerializer(rater_row(user_id=pk)).data)


class RaterPauseView(APIView):
    """Pause a rater: their live leases are released at once."""

    permission_classes = [IsAdmin]

    @extend_schema(request=s.PauseInSerializer, responses=s.RaterSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = s.PauseInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pause_rater(
            actor=acting_user(request), user_id=pk, reason=data.validated_data.get("reason", "")
        )
        return Response(s.RaterSerializer(rater_row(user_id=pk)).data)


class RaterResumeView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses=s.RaterSerializer)
    def post(self, request: Request, pk: int) -> Response:
        resume_rater(actor=acting_user(request), user_id=pk)
        return Response(s.RaterSerializer(rater_row(user_id=pk)).data)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("campaign", int, description="Only this campaign's judgments."),
            OpenApiParameter(
                "annotated", bool, description="true: only judgments with a flag or a rationale."
            ),
        ]
    )
)
class JudgmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Every judgment, with its rater, for admins, newest first; filter with ?campaign=ID and
    ?annotated=true (flagged or explained)."""

    permission_classes = [IsAdmin]
    serializer_class = s.JudgmentSerializer

    def get_queryset(self) -> QuerySet[Judgment]:
        query = self.request.query_params
        return judgments_with_raters(
            campaign=query.get("campaign"), annotated=query.get("annotated") == "true"
        )


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsAdmin]
    serializer_class = s.AuditEventSerializer
    queryset = AuditEvent.objects.select_related("actor").all()


class ExportView(APIView):
    """Download preference pairs: `trl` (prompt/chosen/rejected/margin JSONL), `trl_messages`
    (conversational JSONL) or `csv`. Repeat campaign/rater/pool to filter by several."""

    permission_classes = [IsAdminOrMLEngineer]

    @extend_schema(
        parameters=[s.ExportQuerySerializer],
        responses={
            (200, "application/x-ndjson"): OpenApiTypes.STR,
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        query = {
            key: request.query_params.getlist(key)
            if key in ("campaign", "rater", "pool")
            else value
            for key, value in request.query_params.items()
        }
        data = s.ExportQuerySerializer(data=query)
        data.is_valid(raise_exception=True)
        args = data.validated_data
        filters = PreferenceFilter(
            campaign_ids=tuple(args.get("campaign", ())),
            rater_ids=tuple(args.get("rater", ())),
            pool_ids=tuple(args.get("pool", ())),
            since=args.get("since"),
            until=args.get("until"),
            include_ties=args["include_ties"],
            unsafe=args["unsafe"],
        )
        content_type, extension = EXPORT_FORMATS[args["format"]]
        rows = (
            iter_consensus_rows(filters)
            if args["pairs"] == "consensus"
            else iter_preference_rows(filters)
        )
        chunks = audited_export(
            actor=acting_user(request),
            action="export.preferences",
            target=Export(name=f"preferences ({args['format']})"),
            details=export_details(args),
            rows=rows,
            render=lambda counted: render_export(counted, args["format"]),
        )
        response = StreamingHttpResponse(chunks, content_type=content_type)
        response["Content-Disposition"] = (
            f'attachment; filename="preferences-{args["format"]}.{extension}"'
        )
        return response
