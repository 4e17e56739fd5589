import { useState, type FormEvent } from "react";
import { Dialog, DialogActions } from "../shared/Dialog";
import { errorMessage, fieldErrors, unplacedErrors, type FieldErrors } from "../shared/errors";
import { ROLE_NAMES } from "../routes";
import type { Rater, RaterCreate } from "./api";

const ROLES = ["annotator", "ml_engineer", "admin"] as const;
const FIELDS = ["username", "password", "role"];
const EMPTY: RaterCreate = { username: "", password: "", role: "annotator" };

interface Props {
  open: boolean;
  onClose: () => void;
  /** Sends the new rater; throws the API's error, which the dialog shows by its fields. */
  onCreate: (body: RaterCreate) => Promise<Rater>;
}

/** A new user with a role and a first password (they can change it; the audit log records who
 * made them). */
export function NewRaterDialog({ open, onClose, onCreate }: Props) {
  const [draft, setDraft] = useState<RaterCreate>(EMPTY);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  function close() {
    setDraft(EMPTY);
    setErrors({});
    setFailure(null);
    onClose();
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setFailure(null);
    try {
      await onCreate({ ...draft, username: draft.username.trim() });
      close();
    } catch (caught) {
      const fields = fieldErrors(caught);
      setErrors(fields);
      const stray = unplacedErrors(fields, FIELDS);
      setFailure(stray.length > 0 || Object.keys(fields).length === 0 ? errorMessage(caught) : null);
    } finally {
      setBusy(false);
    }
  }

  const fieldError = (field: string) =>
    errors[field]?.length ? (
      <p id={`new-rater-${field}-error`} className="field-error">
        {errors[field].join(" ")}
      </p>
    ) : null;
  const invalid = (field: string) => ({
    "aria-invalid": errors[field]?.length ? true : undefined,
    "aria-describedby": errors[field]?.length ? `new-rater-${field}-error` : undefined,
  });

  return (
    <Dialog open={open} title="Add a rater" onClose={close}>
      <form onSubmit={submit} noValidate aria-busy={busy}>
        {failure && (
          <p className="notice error" role="alert">
            {failure}
          </p>
        )}
        <label htmlFor="new-rater-username">Username</label>
        <input
          id="new-rater-username"
          className="input"
          autoComplete="off"
          maxLength={150}
          required
          autoFocus
          value={draft.username}
          onChange={(event) => setDraft({ ...draft, username: event.target.value })}
          {...invalid("username")}
        />
        {fieldError("username")}
        <label htmlFor="new-rater-password">First password (at least 8 characters)</label>
        <input
          id="new-rater-password"
          className="input"
          type="password"
          autoComplete="new-password"
          minLength={8}
          maxLength={200}
          required
          value={draft.password}
          onChange={(event) => setDraft({ ...draft, password: event.target.value })}
          {...invalid("password")}
        />
        {fieldError("password")}
        <label htmlFor="new-rater-role">Role</label>
        <select
          id="new-rater-role"
          className="input"
          value={draft.role}
          onChange={(event) => setDraft({ ...draft, role: event.target.value as RaterCreate["role"] })}
          {...invalid("role")}
        >
          {ROLES.map((role) => (
            <option key={role} value={role}>
              {ROLE_NAMES[role]}
            </option>
          ))}
        </select>
        {fieldError("role")}
        <DialogActions submitLabel={busy ? "Adding…" : "Add rater"} onCancel={close} />
      </form>
    </Dialog>
  );
}
