import { useRef, useState, type FormEvent } from "react";
import { consoleApi, type Campaign, type ImportReport } from "./api";
import { ErrorNotice } from "../shared/ui";

/** Upload a JSONL/CSV (optionally .gz) file into a campaign; all rows are written, or none. */
export function ImportPanel({ campaign, onImported }: { campaign: Campaign; onImported: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [source, setSource] = useState("");
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [error, setError] = useState<unknown>(null);
  const input = useRef<HTMLInputElement>(null);
  const prefix = `import-${campaign.id}`;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setReport(null);
    setError(null);
    if (!file) {
      setError(new Error("Choose a file to import first."));
      input.current?.focus();
      return;
    }
    setBusy(true);
    try {
      setReport(await consoleApi.importFile(campaign.id, file, source.trim()));
      setFile(null);
      if (input.current) input.current.value = "";
      onImported();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="import-panel" onSubmit={submit} aria-labelledby={`${prefix}-title`}>
      <h3 id={`${prefix}-title`}>Import prompts or preferences</h3>
      <p className="field-hint">
        JSONL or CSV, optionally <code>.gz</code>. One bad row rejects the whole file; nothing is written then.
      </p>
      <div className="field-row">
        <div className="field">
          <label htmlFor={`${prefix}-file`}>File</label>
          <input
            ref={input}
            id={`${prefix}-file`}
            className="input"
            type="file"
            accept=".jsonl,.json,.csv,.gz,.ndjson"
            onChange={(event) => setFile(event.target.files?.[0] ?? null)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${prefix}-source`}>Source (optional)</label>
          <input
            id={`${prefix}-source`}
            className="input"
            maxLength={200}
            placeholder="e.g. hh-rlhf sample"
            value={source}
            onChange={(event) => setSource(event.target.value)}
          />
        </div>
      </div>
      <div className="form-actions">
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? "Importing…" : "Import file"}
        </button>
      </div>
      <div role="status">
        {report && (
          <p className="notice success" data-testid="import-result">
            Imported {report.prompts} prompts, {report.responses} responses, {report.tasks} tasks and{" "}
            {report.judgments} judgments.
            {report.merged_responses > 0 &&
              ` ${report.merged_responses} identical ${report.merged_responses === 1 ? "response was" : "responses were"} merged into another of the same prompt (its generators are all kept).`}
          </p>
        )}
      </div>
      <ErrorNotice error={error} />
    </form>
  );
}
