import { useState, type FormEvent } from "react";
import { Dialog, DialogActions } from "../shared/Dialog";

export interface PauseTarget {
  id: number;
  username: string;
}

interface Props {
  rater: PauseTarget | null;
  /** The reason the text box starts with (e.g. the quality report's flags). Give the dialog a
   * `key` per rater so a new rater starts from their own reason. */
  initialReason?: string;
  onClose: () => void;
  onPause: (rater: PauseTarget, reason: string) => void;
}

/** Asks for the reason a rater is paused (kept in the audit log). */
export function PauseDialog({ rater, initialReason = "", onClose, onPause }: Props) {
  const [reason, setReason] = useState(initialReason);
  function submit(event: FormEvent) {
    event.preventDefault();
    if (rater) onPause(rater, reason.trim());
    setReason("");
  }
  return (
    <Dialog open={rater !== null} title={`Pause ${rater?.username ?? "rater"}`} onClose={onClose}>
      <form onSubmit={submit}>
        <p className="field-hint">They get no new tasks until resumed; tasks they hold now go back to the queue.</p>
        <label htmlFor="pause-reason">Reason (recorded in the audit log)</label>
        <textarea
          id="pause-reason"
          className="input"
          rows={initialReason ? 5 : 3}
          maxLength={500}
          value={reason}
          autoFocus
          onChange={(event) => setReason(event.target.value)}
        />
        <DialogActions submitLabel="Pause rater" onCancel={onClose} />
      </form>
    </Dialog>
  );
}
