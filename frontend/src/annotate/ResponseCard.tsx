import { forwardRef, useLayoutEffect, useRef, useState } from "react";
import { Markdown } from "../markdown/Markdown";
import { ordinal } from "../ranking/ranking";
import { flagText } from "../shared/flags";
import type { Mode } from "../ranking/keyboard";

interface Props {
  label: string;
  text: string;
  mode: Mode;
  k: number;
  rank: number | null;
  rankText: string;
  focused: boolean;
  locked: boolean;
  onFocus: () => void;
  onRank: (rank: number | null) => void;
  onTie: () => void;
  /** The flags a single response may carry, those this one carries, and a toggle. */
  flagChoices: readonly string[];
  flags: readonly string[];
  onFlag: (flag: string, on: boolean) => void;
}

/**
 * Whether a collapsed body hides part of its text, measured (not guessed from its length), so
 * "show all" appears exactly when something is hidden, at any screen width.
 */
function useOverflows(text: string, expanded: boolean) {
  const [overflows, setOverflows] = useState(false);
  const body = useRef<HTMLDivElement | null>(null);
  useLayoutEffect(() => {
    const element = body.current;
    if (!element || expanded) return;
    const measure = () => setOverflows(element.scrollHeight > element.clientHeight + 1);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, [text, expanded]);
  return { body, long: expanded || overflows };
}

/** One response, labelled by its letter only, with explicit rank buttons (touch and mouse). */
export const ResponseCard = forwardRef<HTMLElement, Props>(function ResponseCard(props, ref) {
  const { label, text, mode, k, rank, rankText, focused, locked, flags } = props;
  const [expanded, setExpanded] = useState(false);
  const { body, long } = useOverflows(text, expanded);
  const id = `response-${label}`;
  return (
    <article
      ref={ref}
      id={id}
      className={`response${focused ? " is-focused" : ""}${rank !== null ? " is-ranked" : ""}${flags.length ? " is-flagged" : ""}`}
      tabIndex={0}
      data-label={label}
      aria-labelledby={`${id}-title`}
      aria-describedby={mode === "rank" ? `${id}-rank` : undefined}
      onFocus={props.onFocus}
    >
      <header className="response-head">
        <h3 id={`${id}-title`} className="response-title">
          <span className="response-word">Response </span>
          <span className="response-letter">{label}</span>
        </h3>
        {mode === "rank" && (
          <span id={`${id}-rank`} className={`rank-badge${rank !== null ? " ranked" : ""}`}>
            <span className="visually-hidden">Rank: </span>
            {rankText}
          </span>
        )}
      </header>
      <div
        ref={body}
        className={`response-body${expanded ? "" : " collapsed"}${long && !expanded ? " clipped" : ""}`}
        id={`${id}-body`}
      >
        <Markdown text={text} />
      </div>
      {long && (
        <button
          type="button"
          className="link-button show-all"
          aria-expanded={expanded}
          aria-controls={`${id}-body`}
          onClick={() => setExpanded(!expanded)}
        >
          {expanded ? `Show less of ${label}` : `Show all of ${label}`}
        </button>
      )}
      {mode === "rank" && (
        <div className="rank-buttons" role="group" aria-label={`Rank response ${label}`}>
          {Array.from({ length: k }, (_, i) => i + 1).map((value) => (
            <button
              key={value}
              type="button"
              className="rank-button"
              aria-pressed={rank === value}
              aria-label={`${value}, rank ${label} ${ordinal(value)}`}
              disabled={locked}
              onClick={() => props.onRank(value)}
            >
              {value}
            </button>
          ))}
          <button
            type="button"
            className="rank-button wide"
            aria-label={`tie ${label} with the response ranked above it`}
            disabled={locked}
            onClick={props.onTie}
          >
            = tie
          </button>
          <button
            type="button"
            className="rank-button wide"
            aria-label={`clear the rank of ${label}`}
            disabled={locked || rank === null}
            onClick={() => props.onRank(null)}
          >
            clear
          </button>
        </div>
      )}
      {props.flagChoices.length > 0 && (
        <fieldset className="response-flags" disabled={locked}>
          <legend className="visually-hidden">Flag response {label} (optional)</legend>
          {props.flagChoices.map((flag) => (
            <label key={flag} className={`check flag-check${flags.includes(flag) ? " is-on" : ""}`}>
              <input
                type="checkbox"
                aria-label={`${flagText(flag)}: response ${label}`}
                checked={flags.includes(flag)}
                onChange={(event) => props.onFlag(flag, event.target.checked)}
              />
              {flagText(flag)}
            </label>
          ))}
        </fieldset>
      )}
    </article>
  );
});
