import { useCallback, useEffect, useRef, useState } from "react";
import "../shared/shared.css";
import "../shared/narrow.css";
import "./training.css";
import { CampaignsSection } from "./CampaignsSection";
import { hashOf, parsePlace, type Place, type SectionId } from "./route";
import { StartRunSection } from "./RunForm";
import { RunsSection } from "./RunsSection";
import { VersionsSection } from "./VersionsSection";

const SECTIONS: { id: SectionId; title: string }[] = [
  { id: "runs", title: "Runs" },
  { id: "new", title: "Start a run" },
  { id: "versions", title: "Model versions" },
  { id: "campaigns", title: "Campaigns" },
];

/** The ML dashboard: runs with live progress and curves, the start-a-run form, the model
 * registry with lineage and comparison, and per-campaign schedules. Where you are lives in the
 * URL's hash, so reloads and the back button keep it. */
export default function TrainingPage() {
  const [place, setPlace] = useState<Place>(() => parsePlace(window.location.hash));
  const moved = useRef(false);

  useEffect(() => {
    const follow = () => {
      moved.current = true;
      setPlace(parsePlace(window.location.hash));
    };
    window.addEventListener("hashchange", follow);
    return () => window.removeEventListener("hashchange", follow);
  }, []);

  const navigate = useCallback((hash: string) => {
    window.location.hash = hash;
  }, []);

  const section = SECTIONS.find((s) => s.id === place.section) ?? SECTIONS[0];
  useEffect(() => {
    document.title = `${section.title} · Training · RLHF Studio`;
    document.querySelector(".training-nav [aria-current='page']")?.scrollIntoView({ block: "nearest", inline: "nearest" });
    if (moved.current) document.getElementById("section-title")?.focus({ preventScroll: false });
  }, [section]);

  let body;
  if (place.section === "new") body = <StartRunSection onStarted={(run) => navigate(hashOf({ section: "runs", runId: run.id }))} />;
  else if (place.section === "versions") body = <VersionsSection versionId={place.versionId} compare={place.compare} navigate={navigate} />;
  else if (place.section === "campaigns") body = <CampaignsSection campaignId={place.campaignId} navigate={navigate} />;
  else body = <RunsSection runId={place.runId} />;

  return (
    <div className="console training">
      <nav className="console-nav training-nav" aria-label="Training sections">
        <ul>
          {SECTIONS.map((s) => (
            <li key={s.id}>
              <a href={`#${s.id}`} aria-current={s.id === section.id ? "page" : undefined}>
                {s.title}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="console-main" data-section={section.id}>
        {body}
      </main>
    </div>
  );
}
