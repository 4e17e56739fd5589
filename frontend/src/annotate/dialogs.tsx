import { useState } from "react";
import type { KeyHelp } from "../ranking/keyboard";
import { Dialog, DialogActions } from "../shared/Dialog";

export function KeyHelpDialog({ open, keys, onClose }: { open: boolean; keys: KeyHelp[]; onClose: () => void }) {
  return (
    <Dialog open={open} title="Keyboard shortcuts" onClose={onClose} className="keys-dialog">
      <dl className="keys">
        {keys.map((entry) => (
          <div key={entry.keys} className="key-row">
            <dt>
              <kbd>{entry.keys}</kbd>
            </dt>
            <dd>{entry.does}</dd>
          </div>
        ))}
      </dl>
      <form method="dialog">
        <button type="submit" className="button" autoFocus>
          Close
        </button>
      </form>
    </Dialog>
  );
}

const SKIP_REASONS = [
  "I can't judge this topic",
  "The prompt is unclear or broken",
  "The responses are unreadable",
  "Other",
];

export function SkipDialog({
  open,
  onClose,
  onSkip,
}: {
  open: boolean;
  onClose: () => void;
  onSkip: (reason: string) => void;
}) {
  const [choice, setChoice] = useState(SKIP_REASONS[0]);
  const [detail, setDetail] = useState("");
  return (
    <Dialog open={open} title="Skip this task" onClose={onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const reason = [choice, detail.trim()].filter(Boolean).join(": ");
          onSkip(reason.slice(0, 500));
          setDetail("");
        }}
      >
        <fieldset className="reasons">
          <legend>Why are you skipping it?</legend>
          {SKIP_REASONS.map((reason) => (
            <label key={reason} className="check">
              <input
                type="radio"
                name="skip-reason"
                value={reason}
                checked={choice === reason}
                onChange={() => setChoice(reason)}
              />
              {reason}
            </label>
          ))}
        </fieldset>
        <label htmlFor="skip-detail">More detail (optional)</label>
        <input
          id="skip-detail"
          className="input"
          maxLength={400}
          value={detail}
          onChange={(event) => setDetail(event.target.value)}
        />
        <DialogActions submitLabel="Skip task" onCancel={onClose} />
      </form>
    </Dialog>
  );
}
