import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { errorMessage, rowProblems } from "./errors";

/** What useLoad gives: the data (kept while reloading), the error, whether it is loading. */
export interface Loaded<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
  setData: (update: (current: T | null) => T | null) => void;
}

/** A list or record fetched on mount and whenever `key` changes, with a reload; errors are
 * kept for showing in words, never a blank. The last data stays shown while reloading. */
export function useLoad<T>(load: () => Promise<T>, key: string | number = 0): Loaded<T> {
  const [generation, setGeneration] = useState(0);
  const token = `${generation}:${key}`;
  const [settled, setSettled] = useState<{ token: string | null; data: T | null; error: unknown }>({
    token: null,
    data: null,
    error: null,
  });
  const loader = useRef(load);
  useEffect(() => {
    loader.current = load;
  });
  useEffect(() => {
    let live = true;
    loader.current().then(
      (data) => live && setSettled({ token, data, error: null }),
      (error: unknown) => live && setSettled((current) => ({ token, data: current.data, error })),
    );
    return () => {
      live = false;
    };
  }, [token]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const setData = useCallback(
    (update: (current: T | null) => T | null) => setSettled((current) => ({ ...current, data: update(current.data) })),
    [],
  );
  return { data: settled.data, error: settled.error, loading: settled.token !== token, reload, setData };
}

/** An API failure in words, with the rows an import rejected when there are any. */
export function ErrorNotice({ error, onRetry, id }: { error: unknown; onRetry?: () => void; id?: string }) {
  if (!error) return null;
  const rows = rowProblems(error);
  return (
    <div id={id} className="notice error" role="alert">
      <p className="notice-text">{errorMessage(error)}</p>
      {rows.length > 0 && (
        <ol className="row-errors" aria-label="Rejected rows">
          {rows.slice(0, 100).map((row, index) => (
            <li key={index}>
              <b>Line {row.line}:</b> {row.reason}
            </li>
          ))}
          {rows.length > 100 && <li>…and {rows.length - 100} more.</li>}
        </ol>
      )}
      {onRetry && (
        <button type="button" className="button small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

/** Attributes that tie a control to its error text. */
export function describedBy(id: string, errors: string[] | undefined, hintId?: string) {
  const ids = [errors?.length ? `${id}-error` : null, hintId ?? null].filter(Boolean).join(" ");
  return { id, "aria-invalid": errors?.length ? true : undefined, "aria-describedby": ids || undefined } as const;
}

interface FieldProps {
  id: string;
  label: string;
  errors?: string[];
  hint?: ReactNode;
  children: ReactNode;
  className?: string;
}

/** A label, its control, an optional hint, and the field's errors right under it. */
export function Field({ id, label, errors, hint, children, className }: FieldProps) {
  return (
    <div className={`field${errors?.length ? " has-error" : ""} ${className ?? ""}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && (
        <p id={`${id}-hint`} className="field-hint">
          {hint}
        </p>
      )}
      {errors?.length ? (
        <p id={`${id}-error`} className="field-error">
          {errors.join(" ")}
        </p>
      ) : null}
    </div>
  );
}

/** A short-lived "done" line for screen readers and eyes alike. */
export function Done({ text }: { text: string | null }) {
  return <div role="status">{text && <p className="notice success">{text}</p>}</div>;
}

/** Focus the first invalid control after a failed submit, so keyboard users land on it. */
export function focusFirstInvalid(form: HTMLElement | null) {
  window.requestAnimationFrame(() => form?.querySelector<HTMLElement>("[aria-invalid='true']")?.focus());
}

/** A ref callback: a panel that opens below the fold (a phone, a long table) scrolls into
 * sight, without taking the keyboard focus from the button that opened it. */
export function revealOnMount(element: HTMLElement | null) {
  if (!element) return;
  const { top, bottom } = element.getBoundingClientRect();
  if (top > window.innerHeight * 0.75 || bottom < 0) element.scrollIntoView({ block: "start", behavior: "smooth" });
}
