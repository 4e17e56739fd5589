import { useState, type DragEvent } from "react";
import { describeRank, rankOf, tiersOf, unrankedOf, type Label, type Placement, type Ranking } from "../ranking/ranking";

interface Props {
  ranking: Ranking;
  canDrag: boolean;
  locked: boolean;
  onPlace: (label: Label, placement: Placement) => void;
  onUnrank: (label: Label) => void;
  onPick: (label: Label) => void;
}

const MIME = "text/x-rlhf-label";

/**
 * The ranking so far, best first. With a mouse the letters can be dragged: between rows to
 * insert, onto a row to tie, back to "not ranked" to clear. On touch screens nothing drags.
 */
export function RankingRail({ ranking, canDrag, locked, onPlace, onUnrank, onPick }: Props) {
  const [dragging, setDragging] = useState<Label | null>(null);
  const [over, setOver] = useState<string | null>(null);
  const draggable = canDrag && !locked;
  const tiers = tiersOf(ranking);
  const unranked = unrankedOf(ranking);

  const target = (key: string, drop: (label: Label) => void) =>
    draggable
      ? {
          onDragOver: (event: DragEvent) => {
            if (!event.dataTransfer.types.includes(MIME)) return;
            event.preventDefault();
            event.dataTransfer.dropEffect = "move";
            if (over !== key) setOver(key);
          },
          onDragLeave: () => setOver((current) => (current === key ? null : current)),
          onDrop: (event: DragEvent) => {
            event.preventDefault();
            const label = event.dataTransfer.getData(MIME);
            setOver(null);
            setDragging(null);
            if (ranking.labels.includes(label)) drop(label);
          },
        }
      : {};

  const chip = (label: Label) => (
    <button
      key={label}
      type="button"
      className={`chip${dragging === label ? " is-dragging" : ""}`}
      draggable={draggable}
      data-chip={label}
      aria-label={`Response ${label}, ${describeRank(ranking, label)}: go to it`}
      onClick={() => onPick(label)}
      onDragStart={(event) => {
        event.dataTransfer.setData(MIME, label);
        event.dataTransfer.effectAllowed = "move";
        setDragging(label);
      }}
      onDragEnd={() => {
        setDragging(null);
        setOver(null);
      }}
    >
      {label}
    </button>
  );

  const gap = (before: Label | null, key: string) => (
    <li
      key={key}
      className={`gap${over === key ? " is-over" : ""}`}
      aria-hidden="true"
      data-gap={before ?? "end"}
      {...target(key, (label) => onPlace(label, { before }))}
    />
  );

  return (
    <section className={`panel rail${dragging ? " is-dragging" : ""}`} aria-labelledby="rail-title">
      <h2 id="rail-title">Your ranking</h2>
      <p className="hint">
        {draggable
          ? "Best first. Drag letters between rows to reorder, onto a row to tie, or use the number keys."
          : "Best first. Use the number buttons under each response."}
      </p>
      {tiers.length === 0 ? (
        <ol className="tiers empty" aria-label="Ranked responses, best first">
          <li className={`gap first${over === "first" ? " is-over" : ""}`} data-gap="end" {...target("first", (label) => onPlace(label, { before: null }))}>
            Nothing ranked yet
          </li>
        </ol>
      ) : (
        <ol className="tiers" aria-label="Ranked responses, best first">
          {gap(tiers[0][0], "gap-0")}
          {tiers.map((tier, index) => {
            const key = `tier-${tier[0]}`;
            const rank = rankOf(ranking, tier[0]);
            return [
              <li
                key={key}
                className={`tier${over === key ? " is-over" : ""}`}
                data-tier={tier.join("")}
                {...target(key, (label) => onPlace(label, { tieWith: tier[0] }))}
              >
                <span className="tier-rank" aria-hidden="true">
                  {rank}
                </span>
                <span className="visually-hidden">
                  {tier.length > 1 ? `Tied ${describeRank(ranking, tier[0]).replace("tied ", "")}: ` : `${describeRank(ranking, tier[0])}: `}
                </span>
                {tier.map(chip)}
              </li>,
              gap(tiers[index + 1]?.[0] ?? null, `gap-${index + 1}`),
            ];
          })}
        </ol>
      )}
      {(unranked.length > 0 || draggable) && (
        <div
          className={`unranked${over === "unranked" ? " is-over" : ""}`}
          data-unranked=""
          {...target("unranked", onUnrank)}
        >
          <span className="unranked-title">Not ranked yet:</span>{" "}
          {unranked.length > 0 ? unranked.map(chip) : <span className="muted">none (drop here to clear)</span>}
        </div>
      )}
    </section>
  );
}
