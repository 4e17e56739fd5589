import { useMemo } from "react";
import { ApiError } from "../api/client";
import { IntervalChart } from "../charts/IntervalChart";
import { DataTable } from "../shared/DataTable";
import type { Column } from "../shared/table";
import { ErrorNotice, Loading, useLoad } from "../shared/ui";
import { consoleApi, type Campaign } from "./api";
import {
  chartItems,
  formatScore,
  intervalSourceText,
  intervalText,
  leaderSentence,
  lengthSentence,
  nextPairText,
  percentText,
  type Arena,
  type ArenaBoard,
  type ArenaStanding,
} from "./arena";

/** The arena's answers when it cannot rank yet (not an arena, fewer than two models): said in
 * words, not as a failure. */
const NOT_READY = new Set(["not_an_arena", "arena_needs_two_models"]);

/** An arena campaign's leaderboard: each model's score with its 95% interval, plain and with
 * answer length taken out, and the figures behind them. */
export function ArenaPanel({ campaign }: { campaign: Campaign }) {
  const arena = useLoad(() => consoleApi.arena(campaign.id), campaign.id);
  return (
    <section className="panel arena" aria-labelledby="arena-title" data-testid="arena-leaderboard">
      <div className="report-bar">
        <h2 id="arena-title">Arena leaderboard</h2>
        <button type="button" className="button small" onClick={arena.reload} disabled={arena.loading}>
          {arena.loading && arena.data ? "Refreshing…" : "Refresh"}
        </button>
      </div>
      {arena.error instanceof ApiError && NOT_READY.has(arena.error.code) ? (
        <p className="notice info" data-testid="arena-not-ready">
          {arena.error.detail}
        </p>
      ) : arena.error ? (
        <ErrorNotice error={arena.error} onRetry={arena.reload} />
      ) : !arena.data ? (
        <Loading what="the leaderboard" />
      ) : (
        <ArenaView arena={arena.data} />
      )}
    </section>
  );
}

function ArenaView({ arena }: { arena: Arena }) {
  return (
    <>
      <p data-testid="arena-summary">{leaderSentence(arena.plain, arena.min_tasks)}</p>
      <dl className="figures">
        <div>
          <dt>Models</dt>
          <dd>{arena.models.length}</dd>
        </div>
        <div>
          <dt>Next pair asked</dt>
          <dd className="arena-model">{nextPairText(arena.next_pair)}</dd>
        </div>
        <div>
          <dt>Open tasks</dt>
          <dd>{arena.open_tasks.toLocaleString("en")}</dd>
        </div>
      </dl>
      <div className="detail-grid">
        <BoardChart board={arena.plain} title="Scores" description="Each model's Bradley-Terry score (0 is the mean model) with its 95% interval." />
        <BoardChart
          board={arena.length_controlled}
          title="Scores with answer length taken out"
          description="The same fit with the two answers' length ratio as an extra term, so a model does not win by writing more."
        />
      </div>
      <p className="muted" data-testid="arena-length">
        {lengthSentence(arena.length_controlled)}
      </p>
      <StandingsTable board={arena.plain} />
      <p className="field-hint">
        A score is a log-strength: a model 1 point above another wins about 73% of their comparisons. {intervalSourceText(arena.plain)}
      </p>
    </>
  );
}

function BoardChart({ board, title, description }: { board: ArenaBoard; title: string; description: string }) {
  const items = useMemo(() => chartItems(board), [board]);
  return (
    <IntervalChart
      title={title}
      description={description}
      items={items}
      reference={0}
      referenceLabel="mean"
      xLabel="Score (log-strength)"
      formatValue={formatScore}
      labelWidth={160}
    />
  );
}

function StandingsTable({ board }: { board: ArenaBoard }) {
  const columns = useMemo<Column<ArenaStanding>[]>(
    () => [
      { key: "model", header: "Model", value: (s) => s.model, render: (s) => <span className="cell-strong arena-model">{s.model}</span> },
      { key: "score", header: "Score", value: (s) => s.score, render: (s) => formatScore(s.score), numeric: true },
      { key: "interval", header: "95% interval", sortable: false, value: (s) => s.low, render: (s) => <span className="arena-interval">{intervalText(s)}</span> },
      {
        key: "win",
        header: "Wins against the leader",
        value: (s) => s.win_probability_vs_leader,
        render: (s) => (s === board.standings[0] ? "leader" : percentText(s.win_probability_vs_leader)),
        numeric: true,
      },
      { key: "comparisons", header: "Comparisons", value: (s) => s.comparisons, numeric: true },
    ],
    [board],
  );
  return (
    <DataTable
      caption="Arena standings, best first"
      testId="arena-table"
      columns={columns}
      rows={board.standings}
      rowKey={(s) => s.model}
      empty="No models yet."
    />
  );
}
