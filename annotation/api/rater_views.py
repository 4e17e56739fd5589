"""Endpoints every logged-in user may call: me, next task, submit, skip (sign-in is in
auth_views)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.api import rater_serializers as s
from annotation.selectors.assignments import has_assignment, load_assignment, rater_assignment
from annotation.selectors.raters import me, rater_stats
from annotation.services.assignments import claim_next_assignment, skip_assignment
from annotation.services.judgments import Submission, submit_judgment
from common.errors import NotFound
from common.permissions import acting_user


class MeView(APIView):
    @extend_schema(responses=s.MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(s.MeSerializer(me(request.user)).data)


class MyStatsView(APIView):
    @extend_schema(responses=s.MyStatsSerializer)
    def get(self, request: Request) -> Response:
        return Response(s.MyStatsSerializer(rater_stats(acting_user(request))).data)


class NextAssignmentView(APIView):
    """Claim the next task (or get back your live one). 204 when no work is left for you."""

    @extend_schema(
        request=None,
        responses={
            200: s.AssignmentOutSerializer,
            204: OpenApiResponse(description="No work left."),
        },
    )
    def post(self, request: Request) -> Response:
        assignment = claim_next_assignment(rater=acting_user(request))
        if assignment is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        # The claim loaded the task's campaign and prompt already: no second read.
        return Response(s.AssignmentOutSerializer(rater_assignment(assignment)).data)


class AssignmentDetailView(APIView):
    @extend_schema(responses=s.AssignmentOutSerializer)
    def get(self, request: Request, pk: int) -> Response:
        if not has_assignment(rater=acting_user(request), assignment_id=pk):
            raise NotFound("No such assignment.", code="assignment_not_found")
        return Response(s.AssignmentOutSerializer(rater_assignment(load_assignment(pk))).data)


class SubmitView(APIView):
    """Submit a ranking. 201 when stored, 200 when the idempotency key was seen before."""

    @extend_schema(
        request=s.SubmitInSerializer,
        responses={201: s.SubmitOutSerializer, 200: s.SubmitOutSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = s.SubmitInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = submit_judgment(
            rater=acting_user(request),
            assignment_id=pk,
            submission=Submission(**data.validated_data),
        )
        judgment = result.judgment
        body = {
            "judgment_id": judgment.pk,
            "assignment_id": judgment.assignment_id,
            "is_surplus": judgment.is_surplus,
            "was_late": judgment.was_late,
            "replayed": result.replayed,
            "submitted_at": judgment.submitted_at,
        }
        code = status.HTTP_200_OK if result.replayed else status.HTTP_201_CREATED
        return Response(s.SubmitOutSerializer(body).data, status=code)


class SkipView(APIView):
    @extend_schema(request=s.SkipInSerializer, responses=s.SkipOutSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = s.SkipInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assignment = skip_assignment(
            rater=acting_user(request),
            assignment_id=pk,
            reason=data.validated_data.get("reason", ""),
        )
        body = {"assignment_id": assignment.pk, "status": assignment.status}
        return Response(s.SkipOutSerializer(body).data)
