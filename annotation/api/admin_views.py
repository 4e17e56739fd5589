"""Endpoints for admins (campaigns, imports, pools, raters, audit) and ML engineers (reads,
export). Every queryset is scoped in get_queryset(); views call one service each."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.api import admin_serializers as s
from annotation.exporting import EXPORT_FORMATS, render_export
from annotation.models import AuditEvent, Campaign, Judgment, RaterPool, TaskStatus
from annotation.selectors.consensus import iter_consensus_rows
from annotation.selectors.preferences import PreferenceFilter, iter_preference_rows
from annotation.services.audit import record_audit_event
from annotation.services.importing import import_file
from annotation.services.raters import (
    change_pool_campaigns,
    change_pool_members,
    create_user_with_role,
    pause_rater,
    resume_rater,
)
from common.permissions import IsAdmin, IsAdminOrMLEngineer, acting_user
from common.roles import Role, role_of


class CampaignViewSet(
    mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Campaigns with their progress. ML engineers read; admins also create and edit."""

    serializer_class = s.CampaignSerializer

    def get_permissions(self) -> list[Any]:
        return [IsAdminOrMLEngineer()] if self.action in ("list", "retrieve") else [IsAdmin()]

    def get_queryset(self) -> QuerySet[Campaign]:
        return Campaign.objects.annotate(
            task_count=Count("tasks", distinct=True),
            complete_count=Count(
                "tasks", filter=Q(tasks__status=TaskStatus.COMPLETE), distinct=True
            ),
            judgment_count=Count("tasks__judgments", distinct=True),
            gold_count=Count("tasks", filter=Q(tasks__is_gold=True), distinct=True),
        ).order_by("-id")

    def perform_create(self, serializer: Any) -> None:
        campaign = serializer.save(created_by=acting_user(self.request))
        record_audit_event(
            actor=acting_user(self.request), action="campaign.create", target=campaign
        )

    def perform_update(self, serializer: Any) -> None:
        campaign = serializer.save()
        record_audit_event(
            actor=acting_user(self.request),
            action="campaign.update",
            target=campaign,
            details={"fields": sorted(serializer.validated_data)},
        )


class CampaignImportView(APIView):
    """Upload a JSONL or CSV file (optionally .gz). All rows are written, or none."""

    permission_classes = [IsAdmin]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request=s.ImportInSerializer,
        responses={201: s.ImportReportSerializer, 400: s.ImportReportSerializer},
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
        body = s.ImportReportSerializer(report).data
        if report.is_ok:
            return Response(body, status=status.HTTP_201_CREATED)
        return Response(
            {
                "code": "import_rejected",
                "detail": f"{len(report.errors)} bad rows; nothing was imported.",
                **body,
            },
            status=status.HTTP_400_BAD_REQUEST,
        )


class PoolViewSet(viewsets.ModelViewSet):
    permission_classes = [IsAdmin]
    serializer_class = s.PoolSerializer
    queryset = RaterPool.objects.prefetch_related("members", "campaigns").order_by("name")

    def perform_create(self, serializer: Any) -> None:
        pool = serializer.save()
        record_audit_event(actor=acting_user(self.request), action="pool.create", target=pool)

    def perform_update(self, serializer: Any) -> None:
        pool = serializer.save()
        record_audit_event(
            actor=acting_user(self.request),
            action="pool.update",
            target=pool,
            details={"fields": sorted(serializer.validated_data)},
        )

    def perform_destroy(self, instance: RaterPool) -> None:
        record_audit_event(
            actor=acting_user(self.request),
            action="pool.delete",
            target=instance,
            details={"name": instance.name},
        )
        instance.delete()


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


def rater_queryset() -> QuerySet[Any]:
    return (
        get_user_model()
        .objects.exclude(rater_profile__role=Role.EXTERNAL)
        .select_related("rater_profile")
        .prefetch_related("rater_pools")
        .annotate(judgment_count=Count("judgments"))
        .order_by("username")
    )


def rater_row(user: Any) -> dict[str, Any]:
    profile = getattr(user, "rater_profile", None)
    return {
        "id": user.pk,
        "username": user.username,
        "role": role_of(user),
        "status": profile.status if profile else "active",
        "paused_reason": profile.paused_reason if profile else "",
        "pool_ids": [pool.pk for pool in user.rater_pools.all()],
        "judgment_count": getattr(user, "judgment_count", 0),
    }


class RaterListView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses=s.RaterSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response([rater_row(user) for user in rater_queryset()])

    @extend_schema(request=s.RaterCreateSerializer, responses={201: s.RaterSerializer})
    def post(self, request: Request) -> Response:
        data = s.RaterCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = create_user_with_role(**data.validated_data)
        record_audit_event(
            actor=acting_user(request),
            action="rater.create",
            target=user,
            details={"role": data.validated_data["role"]},
        )
        return Response(rater_row(rater_queryset().get(pk=user.pk)), status=status.HTTP_201_CREATED)


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
        return Response(rater_row(rater_queryset().get(pk=pk)))


class RaterResumeView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses=s.RaterSerializer)
    def post(self, request: Request, pk: int) -> Response:
        resume_rater(actor=acting_user(request), user_id=pk)
        return Response(rater_row(rater_queryset().get(pk=pk)))


class JudgmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Every judgment, with its rater, for admins; filter with ?campaign=ID."""

    permission_classes = [IsAdmin]
    serializer_class = s.JudgmentSerializer

    def get_queryset(self) -> QuerySet[Judgment]:
        queryset = Judgment.objects.select_related("task", "rater").order_by("-id")
        campaign = self.request.query_params.get("campaign")
        if campaign is not None:
            queryset = queryset.filter(task__campaign_id=campaign if campaign.isdigit() else -1)
        return queryset


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
        responses={(200, "application/x-ndjson"): OpenApiTypes.STR},
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
        )
        content_type, extension = EXPORT_FORMATS[args["format"]]
        rows = (
            iter_consensus_rows(filters)
            if args["pairs"] == "consensus"
            else iter_preference_rows(filters)
        )
        response = StreamingHttpResponse(
            render_export(rows, args["format"]), content_type=content_type
        )
        response["Content-Disposition"] = (
            f'attachment; filename="preferences-{args["format"]}.{extension}"'
        )
        return response
