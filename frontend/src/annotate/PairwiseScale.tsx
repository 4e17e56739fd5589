import { pairScale, sameChoice, type PairChoice } from "../ranking/pairwise";

interface Props {
  labels: readonly string[];
  choice: PairChoice | null;
  locked: boolean;
  onChoose: (choice: PairChoice) => void;
}

/** A / B with graded strength: seven buttons, keys 1 to 7. */
export function PairwiseScale({ labels, choice, locked, onChoose }: Props) {
  const [first, second] = labels;
  const points = pairScale(first, second);
  return (
    <section className="panel scale" aria-labelledby="scale-title">
      <h2 id="scale-title">Which response is better?</h2>
      <div className="scale-points" role="group" aria-labelledby="scale-title">
        {points.map((point) => {
          const side = point.winner === null ? "middle" : point.winner === first ? "left" : "right";
          return (
            <button
              key={point.key}
              type="button"
              className={`scale-point ${side}`}
              aria-pressed={sameChoice(choice, point)}
              aria-keyshortcuts={point.key}
              disabled={locked}
              onClick={() => onChoose({ winner: point.winner, strength: point.strength })}
            >
              <kbd aria-hidden="true">{point.key}</kbd>
              <span>{point.text}</span>
            </button>
          );
        })}
      </div>
    </section>
  );
}
