/** Which campaign a section shows, kept in the URL's hash after the section: `#quality/3`. */

import type { Campaign } from "./api";

/** The section part of the hash: "#quality/3" → "quality". */
export function sectionOfHash(hash: string): string {
  return hash.replace(/^#/, "").split("/")[0];
}

/** "#quality/3" → 3; null when the hash names no campaign. */
export function campaignFromHash(hash: string): number | null {
  const part = hash.replace(/^#/, "").split("/")[1];
  const id = Number(part);
  return part && Number.isInteger(id) && id > 0 ? id : null;
}

/** The hash with this campaign (or none) after the section. */
export function hashWithCampaign(hash: string, id: number | null): string {
  const section = sectionOfHash(hash);
  return `#${section}${id === null ? "" : `/${id}`}`;
}

/** The campaign with the most judgments (the first of equals); null for none. */
export function defaultCampaign(campaigns: readonly Campaign[]): Campaign | null {
  return campaigns.reduce<Campaign | null>((best, c) => (best === null || c.judgment_count > best.judgment_count ? c : best), null);
}
