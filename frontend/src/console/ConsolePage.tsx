import { useEffect, useRef, useState, type ComponentType } from "react";
import "../shared/shared.css";
import "../shared/narrow.css";
import "./console.css";
import "./quality.css";
import "./gold.css";
import { AuditSection } from "./AuditSection";
import { sectionOfHash } from "./campaignChoice";
import { CampaignsSection } from "./CampaignsSection";
import { GoldSection } from "./GoldSection";
import { PoolsSection } from "./PoolsSection";
import { QualitySection } from "./QualitySection";
import { RatersSection } from "./RatersSection";

interface Section {
  id: string;
  title: string;
  /** The nav's shorter name, when the heading's is long. */
  nav?: string;
  component: ComponentType;
}

/** The console's sections, in nav order; each is its own component. */
export const SECTIONS: Section[] = [
  { id: "campaigns", title: "Campaigns", component: CampaignsSection },
  { id: "pools", title: "Rater pools", component: PoolsSection },
  { id: "raters", title: "Raters", component: RatersSection },
  { id: "quality", title: "Quality", component: QualitySection },
  { id: "gold", title: "Gold tasks", nav: "Gold", component: GoldSection },
  { id: "audit", title: "Audit log", component: AuditSection },
];

function sectionFromHash(): Section {
  // "#quality/3": the section, then the campaign it shows.
  const id = sectionOfHash(window.location.hash);
  return SECTIONS.find((s) => s.id === id) ?? SECTIONS[0];
}

/** The admin console: a section nav (a sidebar, tabs on narrow screens) and one section. The
 * section lives in the URL's hash, so reloads and the back button keep it. */
export default function ConsolePage() {
  const [section, setSection] = useState(sectionFromHash);
  const moved = useRef(false);

  useEffect(() => {
    const follow = () => {
      moved.current = true;
      setSection(sectionFromHash());
    };
    window.addEventListener("hashchange", follow);
    return () => window.removeEventListener("hashchange", follow);
  }, []);

  useEffect(() => {
    document.title = `${section.title} · Console · RLHF Studio`;
    // On a phone the nav is a row of tabs wider than the screen: keep the current one in sight.
    document.querySelector(".console-nav [aria-current='page']")?.scrollIntoView({ block: "nearest", inline: "nearest" });
    // After a change of section, land keyboard and screen-reader users on its heading.
    if (moved.current) document.getElementById("section-title")?.focus({ preventScroll: false });
  }, [section]);

  const Current = section.component;
  return (
    <div className="console">
      <nav className="console-nav" aria-label="Console sections">
        <ul>
          {SECTIONS.map((s) => (
            <li key={s.id}>
              <a href={`#${s.id}`} aria-current={s.id === section.id ? "page" : undefined}>
                {s.nav ?? s.title}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="console-main" data-section={section.id}>
        <Current key={section.id} />
      </main>
    </div>
  );
}
