import { describedBy, Field } from "../shared/ui";
import type { Version } from "./types";

// The run form's ids ("run-parent_version_id"), so its labels and errors stay tied together.
const id = (field: string) => `run-${field.replace(/\./g, "-")}`;

/** A choice of model version in the run form, with its hint and errors. */
export function VersionSelect(props: {
  field: string;
  label: string;
  value: string;
  versions: Version[];
  errors?: string[];
  onChange: (event: { target: { value: string } }) => void;
  empty?: string;
  /** The blank choice's words. */
  noneLabel?: string;
}) {
  const { field, label, value, versions, errors, onChange, empty, noneLabel = "Choose a version…" } = props;
  return (
    <Field id={id(field)} label={label} errors={errors} hint={empty}>
      <select {...describedBy(id(field), errors, empty ? `${id(field)}-hint` : undefined)} className="input" value={value} onChange={onChange}>
        <option value="">{noneLabel}</option>
        {versions.map((v) => (
          <option key={v.id} value={v.id}>
            {v.name} ({v.kind})
          </option>
        ))}
      </select>
    </Field>
  );
}
