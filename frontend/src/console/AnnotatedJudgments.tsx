import { flagText } from "../shared/flags";
import { ErrorNotice, Loading, useLoad } from "../shared/ui";
import { consoleApi } from "./api";

const SHOWN = 50;

function when(iso: string | null | undefined): string {
  if (!iso) return "–";
  return new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
}

/** What raters flagged and wrote about the campaign's tasks, newest first: the flags beside
 * each judgment, and its rationale as plain text. */
export function AnnotatedJudgments({ campaignId }: { campaignId: number }) {
  const judgments = useLoad(() => consoleApi.annotatedJudgments(campaignId, SHOWN), campaignId);
  const rows = judgments.data?.results ?? [];
  const total = judgments.data?.count ?? 0;
  return (
    <section className="panel annotated" aria-labelledby="annotated-title" data-testid="annotated-judgments">
      <h3 id="annotated-title">Flags and rationales</h3>
      {judgments.error ? (
        <ErrorNotice error={judgments.error} onRetry={judgments.reload} />
      ) : judgments.loading && !judgments.data ? (
        <Loading what="flagged judgments" />
      ) : rows.length === 0 ? (
        <p className="muted">No judgment in this campaign has a flag or a rationale yet.</p>
      ) : (
        <>
          <p className="muted">
            {total > SHOWN ? `The latest ${SHOWN} of ${total}` : `${total}`} judgment{total === 1 ? "" : "s"} with a flag or a
            rationale. A judgment flagged “all responses are bad” gives training datasets no pairs unless a run asks for them; a
            response flagged unsafe goes below that judgment's safe responses unless the run's dataset says otherwise.
          </p>
          <ol className="annotated-list">
            {rows.map((judgment) => (
              <li key={judgment.id}>
                <div className="annotated-head">
                  <b>{judgment.rater_username}</b> · task {judgment.task_id} · {when(judgment.submitted_at)}
                </div>
                {judgment.flags.length > 0 && (
                  <ul className="flag-list" aria-label="Flags">
                    {judgment.flags.map((flag) => (
                      <li key={flag} className={`flag flag-${flag}`}>
                        {flagText(flag)}
                      </li>
                    ))}
                  </ul>
                )}
                {judgment.flagged_responses.length > 0 && (
                  <ul className="flagged-responses" aria-label="Flagged responses">
                    {judgment.flagged_responses.map((flagged) => (
                      <li key={flagged.response_id}>
                        {flagged.flags.map((flag) => (
                          <span key={flag} className={`flag flag-${flag}`}>
                            {flagText(flag)}
                          </span>
                        ))}{" "}
                        response {flagged.response_id}: <q className="excerpt">{flagged.excerpt}</q>
                      </li>
                    ))}
                  </ul>
                )}
                {judgment.rationale && <p className="rationale">{judgment.rationale}</p>}
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
