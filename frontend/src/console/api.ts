/** The admin endpoints the console uses; types come from the generated schema (schema.d.ts). */

import { ApiError, call, data, NetworkError } from "../api/client";
import { allPages, type Page } from "../api/pages";
import type { components } from "../api/schema";
import type { Arena } from "./arena";
import type { QualityReport } from "./qualityTypes";

type Schemas = components["schemas"];

export type Campaign = Schemas["Campaign"];
export type CampaignRequest = Schemas["CampaignRequest"];
export type CampaignPatch = Schemas["PatchedCampaignRequest"];
export type CampaignStatus = Schemas["CampaignStatusEnum"];
export type JudgmentMode = Schemas["JudgmentModeEnum"];
export type Routing = Schemas["RoutingEnum"];
export type ImportReport = Schemas["ImportReport"];
export type RowError = Schemas["RowError"];
export type Pool = Schemas["Pool"];
export type PoolRequest = Schemas["PoolRequest"];
export type Rater = Schemas["Rater"];
export type RaterCreate = Schemas["RaterCreateRequest"];
export type AuditEvent = Schemas["AuditEvent"];
export type Judgment = Schemas["Judgment"];
export type AdminTask = Schemas["AdminTask"];
export type TaskResponse = Schemas["TaskResponse"];
export type GoldIn = Schemas["GoldInRequest"];

export interface Change {
  add?: number[];
  remove?: number[];
}

/** A file the API serves (a CSV): its text, or the API's error as an ApiError. */
async function fileText(path: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, { credentials: "same-origin" });
  } catch (error) {
    throw new NetworkError(error);
  }
  if (response.ok) return response.text();
  const body = (await response.json().catch(() => ({}))) as { code?: unknown; detail?: unknown };
  throw new ApiError(
    response.status,
    typeof body.code === "string" ? body.code : `http_${response.status}`,
    typeof body.detail === "string" ? body.detail : `The server answered ${response.status}.`,
  );
}

export const consoleApi = {
  campaigns: () => allPages<Campaign>("/campaigns/?limit=200", 40),
  createCampaign: (body: CampaignRequest) => data<Campaign>("POST", "/campaigns/", body),
  updateCampaign: (id: number, body: CampaignPatch) => data<Campaign>("PATCH", `/campaigns/${id}/`, body),
  importFile(id: number, file: File, source: string): Promise<ImportReport> {
    const form = new FormData();
    form.append("file", file);
    if (source) form.append("source", source);
    return data<ImportReport>("POST", `/campaigns/${id}/import/`, form);
  },
  /** The latest judgments of a campaign, newest first (one page: enough for a recent trend). */
  recentJudgments: (campaignId: number, limit = 1000) =>
    data<Page<Judgment>>("GET", `/judgments/?campaign=${campaignId}&limit=${limit}`),
  /** The campaign's latest judgments that carry a flag or a rationale, newest first. */
  annotatedJudgments: (campaignId: number, limit = 50) =>
    data<Page<Judgment>>("GET", `/judgments/?campaign=${campaignId}&annotated=true&limit=${limit}`),

  qualityReport: (campaignId: number) => data<QualityReport>("GET", `/campaigns/${campaignId}/quality/`),
  /** The arena's leaderboards; a 400 (not_an_arena, arena_needs_two_models) says why not. */
  arena: (campaignId: number) => data<Arena>("GET", `/campaigns/${campaignId}/arena/`),
  qualityCsv: (campaignId: number) => fileText(`/campaigns/${campaignId}/quality/?format=csv`),
  tasks: (campaignId: number, gold: boolean, offset: number, limit: number) =>
    data<Page<AdminTask>>("GET", `/campaigns/${campaignId}/tasks/?gold=${gold}&limit=${limit}&offset=${offset}`),
  markGold: (taskId: number, body: GoldIn) => data<AdminTask>("PUT", `/tasks/${taskId}/gold/`, body),
  unmarkGold: (taskId: number) => data<AdminTask>("DELETE", `/tasks/${taskId}/gold/`),

  pools: () => allPages<Pool>("/pools/?limit=200", 40),
  createPool: (body: PoolRequest) => data<Pool>("POST", "/pools/", body),
  updatePool: (id: number, body: Partial<PoolRequest>) => data<Pool>("PATCH", `/pools/${id}/`, body),
  deletePool: (id: number) => call<null>("DELETE", `/pools/${id}/`),
  changeMembers: (id: number, change: Change) => data<Pool>("POST", `/pools/${id}/members/`, change),
  changeCampaigns: (id: number, change: Change) => data<Pool>("POST", `/pools/${id}/campaigns/`, change),

  raters: () => data<Rater[]>("GET", "/raters/"),
  createRater: (body: RaterCreate) => data<Rater>("POST", "/raters/", body),
  pauseRater: (id: number, reason: string) => data<Rater>("POST", `/raters/${id}/pause/`, { reason }),
  resumeRater: (id: number) => data<Rater>("POST", `/raters/${id}/resume/`),

  auditEvents: (offset: number, limit: number) =>
    data<Page<AuditEvent>>("GET", `/audit-events/?limit=${limit}&offset=${offset}`),
};
