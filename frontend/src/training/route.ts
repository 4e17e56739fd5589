/** The dashboard's place lives in the URL's hash, so reloads and the back button keep it:
 * "#runs/12" (a run), "#new", "#versions/compare/3/5", "#campaigns/4". */

export type SectionId = "runs" | "new" | "versions" | "campaigns";

export interface Place {
  section: SectionId;
  /** #runs/ID: the run shown. */
  runId: number | null;
  /** #versions/ID: the version whose lineage is shown. */
  versionId: number | null;
  /** #versions/compare/A/B. */
  compare: [number, number] | null;
  /** #campaigns/ID. */
  campaignId: number | null;
}

const SECTIONS: SectionId[] = ["runs", "new", "versions", "campaigns"];

function id(text: string | undefined): number | null {
  if (!text || !/^\d+$/.test(text)) return null;
  const value = Number(text);
  return value > 0 && Number.isSafeInteger(value) ? value : null;
}

export function parsePlace(hash: string): Place {
  const parts = hash.replace(/^#/, "").split("/");
  const section = SECTIONS.find((s) => s === parts[0]) ?? "runs";
  const place: Place = { section, runId: null, versionId: null, compare: null, campaignId: null };
  if (section === "runs") place.runId = id(parts[1]);
  if (section === "campaigns") place.campaignId = id(parts[1]);
  if (section === "versions") {
    if (parts[1] === "compare") {
      const a = id(parts[2]);
      const b = id(parts[3]);
      place.compare = a && b ? [a, b] : null;
    } else place.versionId = id(parts[1]);
  }
  return place;
}

export function hashOf(place: Partial<Place> & { section: SectionId }): string {
  if (place.section === "runs" && place.runId) return `#runs/${place.runId}`;
  if (place.section === "campaigns" && place.campaignId) return `#campaigns/${place.campaignId}`;
  if (place.section === "versions" && place.compare) return `#versions/compare/${place.compare[0]}/${place.compare[1]}`;
  if (place.section === "versions" && place.versionId) return `#versions/${place.versionId}`;
  return `#${place.section}`;
}
