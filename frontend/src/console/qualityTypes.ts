/**
 * The quality report (GET /api/v1/campaigns/{id}/quality/): names for its parts, all taken from
 * the generated OpenAPI types (schema.d.ts, made by `make frontend-types` from the report's
 * output serializers in annotation/api/quality_serializers.py).
 *
 * Every figure may be null (undefined for lack of data); the server never sends NaN.
 */

import type { components } from "../api/schema";

type Schemas = components["schemas"];

/** A statistic with its 95% interval and the number of units it rests on. */
export type Estimate = Schemas["QualityEstimate"];
/** One rater's test: a proportion, its p-value, the Holm-adjusted p-value, and the flag. */
export type TestedEstimate = Schemas["QualityTestedEstimate"];
export type LengthTest = Schemas["QualityLengthTest"];
export type ReportSettings = Schemas["QualitySettings"];
export type Agreement = Schemas["QualityAgreement"];
export type Consensus = Schemas["QualityConsensus"];
export type OverTimePoint = Schemas["QualityOverTimePoint"];
/** Everyone's figures pooled; the length figure carries the campaign-wide slope too. */
export type CampaignFigures = Schemas["QualityCampaignFigures"];
/** A pool's or a self-reported group's figures pooled. */
export type GroupFigures = Schemas["QualityGroupFigures"];
/** Pools or one self-reported attribute, compared. */
export type Comparison = Schemas["QualityComparison"];
export type FlagName = Schemas["QualityFlagEnum"];
export type RaterRow = Schemas["QualityRaterRow"];
export type QualityReport = Schemas["QualityReport"];
/** An LLM judge scored like a rater (each pair asked in both orders). */
export type JudgeRow = Schemas["QualityJudgeRow"];
