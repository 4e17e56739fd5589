"""Quality endpoints for admins: the campaign's tasks and gold tasks, and the quality report
(agreement, consensus, rater quality, bias) as JSON or CSV."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.api import admin_serializers as s
from annotation.api.quality_csv import export_report_csv
from annotation.api.quality_serializers import QualityReportSerializer
from annotation.models import Campaign, RankingTask
from annotation.models import Response as ResponseRow
from annotation.selectors.quality import campaign_quality_report
from annotation.services.gold import mark_gold, unmark_gold
from common.errors import InvalidInput
from common.permissions import IsAdmin, acting_user


def _task_rows(tasks: list[RankingTask]) -> list[dict[str, Any]]:
    ids = {rid for task in tasks for rid in task.response_ids}
    responses = {
        row["id"]: row
        for row in ResponseRow.objects.filter(pk__in=ids).values("id", "text", "generator")
    }
    return [
        {
            "id": task.pk,
            "prompt": task.prompt.conversation,
            "responses": [responses[rid] for rid in task.response_ids if rid in responses],
            "status": task.status,
            "submitted_count": task.submitted_count,
            "required_judgments": task.required_judgments,
            "is_gold": task.is_gold,
            "gold_ranking": task.gold_ranking,
        }
        for task in tasks
    ]


class CampaignTasksView(generics.GenericAPIView[RankingTask]):
    """A campaign's tasks with their responses (ids, texts, generators), for choosing gold
    tasks; `?gold=true` lists only gold tasks, `?gold=false` only regular ones."""

    permission_classes = [IsAdmin]
    serializer_class = s.AdminTaskSerializer

    def get_queryset(self) -> QuerySet[RankingTask]:
        campaign = generics.get_object_or_404(Campaign, pk=self.kwargs["pk"])
        tasks = RankingTask.objects.filter(campaign=campaign).select_related("prompt")
        gold = self.request.query_params.get("gold")
        if gold in ("true", "false"):
            tasks = tasks.filter(is_gold=gold == "true")
        elif gold is not None:
            raise InvalidInput("gold must be true or false.", code="bad_filter")
        return tasks.order_by("id")

    @extend_schema(
        parameters=[OpenApiParameter("gold", OpenApiTypes.BOOL, required=False)],
        responses=s.AdminTaskSerializer(many=True),
    )
    def get(self, request: Request, pk: int) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        rows = s.AdminTaskSerializer(_task_rows(list(page or [])), many=True).data
        return self.get_paginated_response(rows)


def _task_response(task: RankingTask) -> Response:
    task = RankingTask.objects.select_related("prompt").get(pk=task.pk)
    return Response(s.AdminTaskSerializer(_task_rows([task])[0]).data)


class TaskGoldView(APIView):
    """PUT marks a task as gold with its expected ranking; DELETE makes it regular again."""

    permission_classes = [IsAdmin]

    @extend_schema(request=s.GoldInSerializer, responses=s.AdminTaskSerializer)
    def put(self, request: Request, pk: int) -> Response:
        data = s.GoldInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = mark_gold(
            actor=acting_user(request), task_id=pk, ranking=data.validated_data["ranking"]
        )
        return _task_response(task)

    # 200 with the task, not the 204 spectacular assumes for a DELETE.
    @extend_schema(request=None, responses={200: s.AdminTaskSerializer})
    def delete(self, request: Request, pk: int) -> Response:
        task = unmark_gold(actor=acting_user(request), task_id=pk)
        return _task_response(task)


class QualityReportView(APIView):
    """The campaign's quality report: agreement (with bootstrap intervals), agreement over
    time, consensus, each rater's quality and bias tests, pools and self-reported groups.
    `?format=csv` gives the same figures as one long table."""

    permission_classes = [IsAdmin]

    @extend_schema(
        parameters=[OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"])],
        responses={
            (200, "application/json"): QualityReportSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    def get(self, request: Request, pk: int) -> Response | HttpResponse:
        campaign = generics.get_object_or_404(Campaign, pk=pk)
        report = campaign_quality_report(campaign=campaign)
        if request.query_params.get("format") == "csv":
            text = export_report_csv(actor=acting_user(request), campaign=campaign, report=report)
            response = HttpResponse(text, content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = (
                f'attachment; filename="quality-campaign-{campaign.pk}.csv"'
            )
            return response
        return Response(QualityReportSerializer(report).data)
