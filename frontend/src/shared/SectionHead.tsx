import type { ReactNode } from "react";

/** A section's heading (the target of the nav's focus move) and its tools on the right. */
export function SectionHead({ title, children }: { title: ReactNode; children?: ReactNode }) {
  return (
    <div className="section-head">
      <h1 id="section-title" tabIndex={-1}>
        {title}
      </h1>
      {children ? <div className="section-tools">{children}</div> : null}
    </div>
  );
}

/** The Refresh button most sections carry. */
export function RefreshButton({ onClick }: { onClick: () => void }) {
  return (
    <button type="button" className="button" onClick={onClick}>
      Refresh
    </button>
  );
}
