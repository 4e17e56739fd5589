/** The training endpoints (/api/v1/training/) the dashboard uses. */

import { call, data } from "../api/client";
import { allPages } from "../api/pages";
import type { components } from "../api/schema";
import type {
  Ceiling,
  Comparison,
  LengthPreference,
  NamedRef,
  MetricsAnswer,
  Run,
  RunPage,
  RunRequest,
  Schedule,
  ScheduleChange,
  ScheduleCreate,
  TrainingOptions,
  Version,
  VersionDetail,
} from "./types";

const ROOT = "/training";

export const trainingApi = {
  options: () => data<TrainingOptions>("GET", `${ROOT}/options/`),
  runs: (limit = 50) => data<RunPage>("GET", `${ROOT}/runs/?limit=${limit}`),
  run: (id: number) => data<Run>("GET", `${ROOT}/runs/${id}/`),
  /** 201 for a new run, 200 when the idempotency key matched one already made. */
  createRun: (body: RunRequest) => data<Run>("POST", `${ROOT}/runs/`, body),
  cancelRun: (id: number) => data<Run>("POST", `${ROOT}/runs/${id}/cancel/`),
  metrics: (id: number, afterStep: number) =>
    data<MetricsAnswer>("GET", `${ROOT}/runs/${id}/metrics/?after_step=${afterStep}`),

  versions: () => allPages<Version>(`${ROOT}/versions/?limit=200`, 20),
  version: (id: number) => data<VersionDetail>("GET", `${ROOT}/versions/${id}/`),
  lengthPreference: (versionId: number) => data<LengthPreference>("GET", `${ROOT}/versions/${versionId}/length-preference/`),
  compare: (a: number, b: number) => data<Comparison>("GET", `${ROOT}/versions/compare/?a=${a}&b=${b}`),

  schedules: () => data<Schedule[]>("GET", `${ROOT}/schedules/`),
  createSchedule: (body: ScheduleCreate) => data<Schedule>("POST", `${ROOT}/schedules/`, body),
  updateSchedule: (id: number, body: ScheduleChange) =>
    data<Schedule>("PATCH", `${ROOT}/schedules/${id}/`, body),
  deleteSchedule: (id: number) => call<null>("DELETE", `${ROOT}/schedules/${id}/`),

  /** The arena campaigns (a promotion gate's or arena answers' target), by name. */
  async arenaCampaigns(): Promise<NamedRef[]> {
    const campaigns = await allPages<components["schemas"]["Campaign"]>("/campaigns/?limit=200", 40);
    return campaigns
      .filter((campaign) => campaign.is_arena)
      .map(({ id, name }) => ({ id, name }))
      .sort((a, b) => a.name.localeCompare(b.name));
  },

  ceiling: (campaignId: number) => data<Ceiling>("GET", `${ROOT}/ceiling/?campaign=${campaignId}`),
};
