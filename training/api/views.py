"""The training API for admins and ML engineers: runs, their metrics, the model registry,
schedules and the reward model's ceiling. Views parse, call one service or selector, render."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.models import Campaign, RaterPool
from annotation.selectors.campaigns import count_campaign_judgments
from common.permissions import IsAdminOrMLEngineer, acting_user
from training import selectors, services
from training.api import ceiling_serializers as cs
from training.api import serializers as s
from training.api.watch_serializers import LengthPreferenceSerializer
from training.hyperparameters import hyperparameter_limits, run_options
from training.models import ModelVersion, TrainingRun, TrainingSchedule, TrainingWorker
from training.pipeline.watch import LENGTH_DRIFT_FACTOR


def _query(serializer_class: type[Any], request: Request) -> dict[str, Any]:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


def _runs() -> QuerySet[TrainingRun]:
    # The snapshot's id list can be long; the API shows its hash and size only.
    return (
        TrainingRun.objects.defer("snapshot_preference_ids")
        .select_related("parent_version", "reward_version", "compare_version", "campaign")
        .select_related("check_reward_version")
        .select_related("created_by")
        .prefetch_related("produced_versions")
        .order_by("-created_at", "-id")
    )


class RunListCreateView(generics.ListAPIView[TrainingRun]):
    """Runs, newest first, filtered by status, kind or campaign; POST starts one."""

    permission_classes = [IsAdminOrMLEngineer]
    serializer_class = s.RunSerializer

    def get_queryset(self) -> QuerySet[TrainingRun]:
        query = _query(s.RunListQuerySerializer, self.request)
        runs = _runs()
        if "status" in query:
            runs = runs.filter(status=query["status"])
        if "kind" in query:
            runs = runs.filter(kind=query["kind"])
        if "campaign" in query:
            runs = runs.filter(campaign_id=query["campaign"])
        return runs

    @extend_schema(parameters=[s.RunListQuerySerializer])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=s.RunCreateSerializer,
        responses={201: s.RunSerializer, 200: s.RunSerializer},
        description="201 with a new run; 200 with the existing run when the idempotency key "
        "was already used for the same request (another request under it: 409).",
    )
    def post(self, request: Request) -> Response:
        body = s.RunCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        run, is_new = services.create_or_replay_run(
            request=services.RunRequest(
                kind=data["kind"],
                base=data.get("base", ""),
                parent_version=data.get("parent_version_id"),
                reward_version=data.get("reward_version_id"),
                compare_version=data.get("compare_version_id"),
                check_reward_version=data.get("check_reward_version_id"),
                campaign=data.get("campaign_id"),
                dataset=data.get("dataset", {}),
                hyperparameters=data.get("hyperparameters", {}),
            ),
            actor=acting_user(request),
            idempotency_key=data.get("idempotency_key", ""),
        )
        rendered = s.RunSerializer(_runs().get(pk=run.pk)).data
        return Response(rendered, status=status.HTTP_201_CREATED if is_new else status.HTTP_200_OK)


class RunDetailView(generics.RetrieveAPIView[TrainingRun]):
    permission_classes = [IsAdminOrMLEngineer]
    serializer_class = s.RunSerializer

    def get_queryset(self) -> QuerySet[TrainingRun]:
        return _runs()


class RunCancelView(generics.GenericAPIView[TrainingRun]):
    """Queued: cancelled at once. Running: cancel_requested, and the worker stops it.
    Finished: 409 run_finished."""

    permission_classes = [IsAdminOrMLEngineer]
    serializer_class = s.RunSerializer

    def get_queryset(self) -> QuerySet[TrainingRun]:
        return _runs()

    @extend_schema(request=None, responses={200: s.RunSerializer})
    def post(self, request: Request, pk: int) -> Response:
        run = services.cancel_run(run=self.get_object(), actor=acting_user(request))
        return Response(s.RunSerializer(_runs().get(pk=run.pk)).data)


class RunMetricsView(generics.GenericAPIView[TrainingRun]):
    """The run's metric series; `after_step` returns only newer points (for polling)."""

    permission_classes = [IsAdminOrMLEngineer]
    serializer_class = s.MetricSeriesSerializer
    queryset = TrainingRun.objects.only("pk")

    @extend_schema(parameters=[s.MetricsQuerySerializer])
    def get(self, request: Request, pk: int) -> Response:
        run = self.get_object()
        after = _query(s.MetricsQuerySerializer, request)["after_step"]
        series = selectors.metric_series(run=run, after_step=after)
        return Response(s.MetricSeriesSerializer({"series": series}).data)


class OptionsView(APIView):
    """What the start-a-run form offers: defaults, help and limits per kind, bases, campaigns,
    pools; the hyperparameters are read from the pipeline's declarations."""

    permission_classes = [IsAdminOrMLEngineer]

    @extend_schema(responses=s.OptionsSerializer)
    def get(self, request: Request) -> Response:
        options = {
            **run_options(),
            "limits": hyperparameter_limits(),
            "campaigns": list(Campaign.objects.order_by("name").values("id", "name")),
            "pools": list(RaterPool.objects.order_by("name").values("id", "name")),
            "workers": list(TrainingWorker.objects.all()),
        }
        return Response(s.OptionsSerializer(options).data)


class VersionViewSet(viewsets.ReadOnlyModelViewSet[ModelVersion]):
    """The model registry, newest first; one version with its lineage up to the root."""

    permission_classes = [IsAdminOrMLEngineer]

    def get_queryset(self) -> QuerySet[ModelVersion]:
        versions = ModelVersion.objects.select_related("parent", "produced_by", "campaign")
        if self.action == "list":
            kind = _query(s.VersionListQuerySerializer, self.request).get("kind")
            versions = versions.filter(kind=kind) if kind else versions
        return versions.defer("produced_by__snapshot_preference_ids")

    def get_serializer_class(self) -> type[Any]:
        return s.VersionDetailSerializer if self.action == "retrieve" else s.VersionSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if self.action == "retrieve":
            context["lineage"] = selectors.version_lineage(version=self.get_object())
        return context

    @extend_schema(parameters=[s.VersionListQuerySerializer])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)


class VersionCompareView(APIView):
    """Two versions side by side: metrics by name and samples from their newest evaluation."""

    permission_classes = [IsAdminOrMLEngineer]

    @extend_schema(parameters=[s.CompareQuerySerializer], responses=s.ComparisonSerializer)
    def get(self, request: Request) -> Response:
        query = _query(s.CompareQuerySerializer, request)
        versions = ModelVersion.objects.select_related("parent", "produced_by", "campaign")
        a = generics.get_object_or_404(versions, pk=query["a"])
        b = generics.get_object_or_404(versions, pk=query["b"])
        comparison = selectors.compare_versions(a=a, b=b)
        run = comparison.evaluation_run
        return Response(
            s.ComparisonSerializer(
                {
                    "a": a,
                    "b": b,
                    "metrics": comparison.metrics,
                    "samples": comparison.samples,
                    "evaluation_run": _runs().get(pk=run.pk) if run else None,
                }
            ).data
        )


class ScheduleViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.ReadOnlyModelViewSet[TrainingSchedule],
):
    """Retraining schedules, one per campaign (a plain list, no pages)."""

    permission_classes = [IsAdminOrMLEngineer]
    serializer_class = s.ScheduleSerializer
    pagination_class = None
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    queryset = TrainingSchedule.objects.select_related("campaign", "check_reward_version").order_by(
        "campaign__name"
    )

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        schedules = self.queryset if self.action == "list" else []
        context["judgment_counts"] = {
            schedule.pk: count_campaign_judgments(campaign_id=schedule.campaign_id)
            for schedule in schedules
        }
        return context

    def _render(self, schedule: TrainingSchedule, code: int = status.HTTP_200_OK) -> Response:
        counts = {schedule.pk: count_campaign_judgments(campaign_id=schedule.campaign_id)}
        body = s.ScheduleSerializer(schedule, context={"judgment_counts": counts}).data
        return Response(body, status=code)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._render(self.get_object())

    @extend_schema(request=s.ScheduleCreateSerializer, responses={201: s.ScheduleSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = s.ScheduleCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data)
        campaign = values.pop("campaign_id")
        schedule = services.create_schedule(
            campaign=campaign, values=values, actor=acting_user(request)
        )
        return self._render(schedule, status.HTTP_201_CREATED)

    @extend_schema(request=s.ScheduleUpdateSerializer, responses=s.ScheduleSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = s.ScheduleUpdateSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        schedule = services.update_schedule(
            schedule=self.get_object(),
            changes=dict(body.validated_data),
            actor=acting_user(request),
        )
        return self._render(schedule)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.delete_schedule(schedule=self.get_object(), actor=acting_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CeilingView(APIView):
    """The campaign's human agreement beside its newest reward model's validation accuracy."""

    permission_classes = [IsAdminOrMLEngineer]

    @extend_schema(parameters=[cs.CeilingQuerySerializer], responses=cs.CeilingSerializer)
    def get(self, request: Request) -> Response:
        campaign_id = _query(cs.CeilingQuerySerializer, request)["campaign"]
        campaign = generics.get_object_or_404(Campaign, pk=campaign_id)
        ceiling = selectors.reward_ceiling(campaign=campaign)
        agreement = ceiling.human_agreement
        return Response(
            cs.CeilingSerializer(
                {
                    "campaign": campaign,
                    "human_agreement": {
                        "percent": agreement.percent,
                        "alpha": agreement.alpha,
                        "n": agreement.n,
                        "consensus": agreement.consensus,
                        "consensus_ci_low": agreement.consensus_low,
                        "consensus_ci_high": agreement.consensus_high,
                        "consensus_n": agreement.consensus_n,
                    },
                    "reward_model": {
                        "version": ceiling.reward_version,
                        "val_accuracy": ceiling.val_accuracy,
                        "val_ci_low": ceiling.val_ci_low,
                        "val_ci_high": ceiling.val_ci_high,
                    },
                    "verdict": ceiling.verdict,
                }
            ).data
        )


class LengthPreferenceView(APIView):
    """The chart "Length preference: raters, reward model, policy drift" along a version's
    lineage: the raters' length slope, each round's reward model's, each round's drift."""

    permission_classes = [IsAdminOrMLEngineer]

    @extend_schema(responses=LengthPreferenceSerializer)
    def get(self, request: Request, pk: int) -> Response:
        versions = ModelVersion.objects.select_related("produced_by", "campaign")
        version = generics.get_object_or_404(versions, pk=pk)
        chart = selectors.length_preference(version=version)
        body = {**vars(chart), "length_drift_factor": LENGTH_DRIFT_FACTOR}
        return Response(LengthPreferenceSerializer(body).data)
