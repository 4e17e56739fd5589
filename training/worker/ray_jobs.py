"""A small client for Ray's job submission REST API (the dashboard's `/api/jobs/`), the same
API `ray job submit` and `ray.job_submission.JobSubmissionClient` speak. It needs no `ray`
package: the beat's reconciler, which may run where torch and Ray are not installed, uses it
to stop the jobs of runs it cancels or gives up on."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

# Ray's JobStatus values.
ALIVE = ("PENDING", "RUNNING")
FINISHED = ("SUCCEEDED", "FAILED", "STOPPED")


class RayUnreachable(Exception):
    """The cluster did not answer (wrong RAY_ADDRESS, head down, network)."""


class RayRefused(Exception):
    """The cluster answered with an error (bad request, or a job it would not run)."""


@dataclass(frozen=True)
class JobInfo:
    submission_id: str
    status: str
    message: str
    exit_code: int | None

    @property
    def alive(self) -> bool:
        return self.status in ALIVE


def unreachable_message(address: str, reason: object) -> str:
    return (
        f"Cannot reach the Ray cluster at {address} ({reason}). RAY_ADDRESS must be the Ray "
        "dashboard's address (http://HEAD:8265) of a running head that this worker can reach."
    )


@dataclass(frozen=True)
class RayJobs:
    address: str
    timeout_s: float = 10.0
    token: str = ""

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The decoded JSON answer; None for 404 (no such job)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - an http(s) address from settings
            self.address.rstrip("/") + path, data=data, method=method
        )
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as reply:  # noqa: S310
                return json.loads(reply.read() or b"null")
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            text = error.read().decode("utf-8", "replace").strip().splitlines()
            raise RayRefused(f"Ray answered {error.code}: {text[-1] if text else ''}") from error
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as error:
            reason = getattr(error, "reason", error)
            raise RayUnreachable(unreachable_message(self.address, reason)) from error

    def info(self, submission_id: str) -> JobInfo | None:
        """The job's state, or None when the cluster has no job by that id."""
        row = self._call("GET", f"/api/jobs/{quote(submission_id, safe='')}")
        if not isinstance(row, dict):
            return None
        code = row.get("driver_exit_code")
        return JobInfo(
            submission_id=submission_id,
            status=str(row.get("status", "")),
            message=str(row.get("message") or ""),
            exit_code=code if isinstance(code, int) else None,
        )

    def submit(
        self,
        submission_id: str,
        entrypoint: str,
        *,
        env_vars: dict[str, str],
        metadata: dict[str, str],
        num_cpus: float,
        num_gpus: float,
    ) -> None:
        body = {
            "submission_id": submission_id,
            "entrypoint": entrypoint,
            "runtime_env": {"env_vars": env_vars},
            "metadata": metadata,
            "entrypoint_num_cpus": num_cpus,
            "entrypoint_num_gpus": num_gpus,
        }
        self._call("POST", "/api/jobs/", body)

    def stop(self, submission_id: str) -> bool:
        """Asks the cluster to stop the job; False when it had no such job or it had ended."""
        answer = self._call("POST", f"/api/jobs/{quote(submission_id, safe='')}/stop")
        return bool(isinstance(answer, dict) and answer.get("stopped"))

    def list_ids(self) -> list[str]:
        rows = self._call("GET", "/api/jobs/") or []
        return [str(row.get("submission_id")) for row in rows if isinstance(row, dict)]
