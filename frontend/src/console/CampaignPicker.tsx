import { useCallback, useState } from "react";
import type { Campaign } from "./api";
import { ErrorNotice, Loading, type Loaded } from "../shared/ui";
import { campaignFromHash, defaultCampaign, hashWithCampaign } from "./campaignChoice";
import { SectionHead } from "../shared/SectionHead";

// The campaign last chosen in any section (null: "none" chosen), so moving between sections
// keeps it; undefined until the admin chooses.
let lastChosen: number | null | undefined;

/** The campaign a section shows: from the URL's hash (`#quality/3`), else the one last chosen,
 * else the busiest (or none, with `fallback: "none"`). Choosing one rewrites the hash in place,
 * so a reload keeps it. */
export function useCampaignChoice(
  campaigns: readonly Campaign[] | null,
  fallback: "busiest" | "none" = "busiest",
): [Campaign | null, (id: number | null) => void] {
  const [chosen, setChosen] = useState<number | null | undefined>(() => campaignFromHash(window.location.hash) ?? lastChosen);
  const choose = useCallback((id: number | null) => {
    lastChosen = id;
    setChosen(id);
    window.history.replaceState(null, "", hashWithCampaign(window.location.hash, id));
  }, []);
  if (!campaigns) return [null, choose];
  const found = campaigns.find((c) => c.id === chosen);
  if (found) return [found, choose];
  if (chosen === null || fallback === "none") return [null, choose];
  return [defaultCampaign(campaigns), choose];
}

interface Props {
  id: string;
  campaigns: readonly Campaign[];
  value: Campaign | null;
  onChange: (id: number | null) => void;
  label?: string;
  /** The choice of none (e.g. the raters table without quality columns). */
  noneLabel?: string;
}

export function CampaignPicker({ id, campaigns, value, onChange, label = "Campaign", noneLabel }: Props) {
  return (
    <div className="campaign-picker">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        className="input"
        value={value?.id ?? ""}
        onChange={(event) => onChange(event.target.value === "" ? null : Number(event.target.value))}
      >
        {(noneLabel || !value) && <option value="">{noneLabel ?? "Choose a campaign"}</option>}
        {campaigns.map((c) => (
          <option key={c.id} value={c.id}>
            {c.name} ({c.judgment_count.toLocaleString("en")} judgments)
          </option>
        ))}
      </select>
    </div>
  );
}

/** A section that works on one campaign: its heading, the campaigns' loading state and the picker. */
export function CampaignSectionHead({
  title,
  pickerId,
  campaigns,
  value,
  onChange,
}: {
  title: string;
  pickerId: string;
  campaigns: Loaded<Campaign[]>;
  value: Campaign | null;
  onChange: (id: number | null) => void;
}) {
  return (
    <>
      <SectionHead title={title} />
      {campaigns.error ? <ErrorNotice error={campaigns.error} onRetry={campaigns.reload} /> : null}
      {campaigns.loading && !campaigns.data ? <Loading what="campaigns" /> : null}
      {campaigns.data && (
        <div className="section-filters">
          <CampaignPicker id={pickerId} campaigns={campaigns.data} value={value} onChange={onChange} />
        </div>
      )}
    </>
  );
}
