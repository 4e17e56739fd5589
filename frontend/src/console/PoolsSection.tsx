import { useRef, useState, type FormEvent } from "react";
import { consoleApi, type Campaign, type Pool, type Rater } from "./api";
import { errorMessage, fieldErrors, type FieldErrors } from "../shared/errors";
import { describedBy, Done, ErrorNotice, Field, focusFirstInvalid, Loading, revealOnMount, useLoad } from "../shared/ui";
import { RefreshButton, SectionHead } from "../shared/SectionHead";

interface Lookups {
  raters: Rater[];
  campaigns: Campaign[];
}

async function loadAll(): Promise<{ pools: Pool[] } & Lookups> {
  const [pools, raters, campaigns] = await Promise.all([consoleApi.pools(), consoleApi.raters(), consoleApi.campaigns()]);
  return { pools, raters, campaigns };
}

export function PoolsSection() {
  const all = useLoad(loadAll);
  const [selectedId, setSelectedId] = useState<number | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const pools = all.data?.pools ?? [];
  const selected = pools.find((p) => p.id === selectedId) ?? null;

  const putPool = (pool: Pool) =>
    all.setData((d) => d && { ...d, pools: d.pools.some((p) => p.id === pool.id) ? d.pools.map((p) => (p.id === pool.id ? pool : p)) : [...d.pools, pool].sort((a, b) => a.name.localeCompare(b.name)) });

  return (
    <>
      <SectionHead title="Rater pools">
        <RefreshButton onClick={all.reload} />
      </SectionHead>
      <Done text={done} />
      {all.error ? <ErrorNotice error={all.error} onRetry={all.reload} /> : null}
      {all.loading && !all.data ? <Loading what="pools" /> : null}
      {all.data && (
        <div className="pools-layout">
          <ul className="pool-list" aria-label="Pools">
            {pools.length === 0 && <li className="muted">No pools yet: create one.</li>}
            {pools.map((pool) => (
              <li key={pool.id}>
                <button
                  type="button"
                  className={`pool-item${pool.id === selectedId ? " is-selected" : ""}`}
                  aria-pressed={pool.id === selectedId}
                  aria-controls="pool-detail"
                  onClick={() => {
                    setSelectedId(pool.id === selectedId ? null : pool.id);
                    setDone(null);
                  }}
                >
                  <span className="cell-strong">{pool.name}</span>
                  <span className="muted">
                    {pool.member_ids.length} {pool.member_ids.length === 1 ? "rater" : "raters"} · {pool.campaign_ids.length}{" "}
                    {pool.campaign_ids.length === 1 ? "campaign" : "campaigns"}
                  </span>
                </button>
              </li>
            ))}
          </ul>
          {selected ? (
            <PoolDetail
              key={selected.id}
              pool={selected}
              lookups={all.data}
              onChanged={(pool, message) => {
                putPool(pool);
                setDone(message);
              }}
              onDeleted={(pool) => {
                all.setData((d) => d && { ...d, pools: d.pools.filter((p) => p.id !== pool.id) });
                setSelectedId(null);
                setDone(`Pool “${pool.name}” deleted.`);
              }}
            />
          ) : (
            <p className="muted pool-placeholder">Choose a pool to manage its raters and campaigns.</p>
          )}
          <CreatePool
            onCreated={(pool) => {
              putPool(pool);
              setSelectedId(pool.id);
              setDone(`Pool “${pool.name}” created. Add raters and campaigns to it.`);
            }}
          />
        </div>
      )}
    </>
  );
}

function PoolNameFields({ prefix, name, description, errors, onName, onDescription }: {
  prefix: string;
  name: string;
  description: string;
  errors: FieldErrors;
  onName: (value: string) => void;
  onDescription: (value: string) => void;
}) {
  return (
    <>
      <Field id={`${prefix}-name`} label="Name" errors={errors.name}>
        <input {...describedBy(`${prefix}-name`, errors.name)} className="input" maxLength={200} value={name} onChange={(e) => onName(e.target.value)} />
      </Field>
      <Field id={`${prefix}-description`} label="Description (optional)" errors={errors.description}>
        <input
          {...describedBy(`${prefix}-description`, errors.description)}
          className="input"
          value={description}
          onChange={(e) => onDescription(e.target.value)}
        />
      </Field>
    </>
  );
}

interface PoolFormProps {
  prefix: string;
  heading: string;
  headingLevel: "h2" | "h3";
  initial: { name: string; description: string };
  submitLabel: string;
  busyLabel: string;
  clearOnSave?: boolean;
  className?: string;
  onSave: (body: { name: string; description: string }) => Promise<void>;
}

/** A pool's name and description; field errors land beside the fields. */
function PoolForm({ prefix, heading, headingLevel: Heading, initial, submitLabel, busyLabel, clearOnSave, className, onSave }: PoolFormProps) {
  const [name, setName] = useState(initial.name);
  const [description, setDescription] = useState(initial.description);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setFailure(null);
    if (!name.trim()) {
      setErrors({ name: ["A pool needs a name."] });
      focusFirstInvalid(form.current);
      return;
    }
    setBusy(true);
    try {
      await onSave({ name: name.trim(), description });
      setErrors({});
      if (clearOnSave) {
        setName("");
        setDescription("");
      }
    } catch (caught) {
      const fields = fieldErrors(caught);
      setErrors(fields);
      setFailure(fields.name || fields.description ? null : errorMessage(caught));
      focusFirstInvalid(form.current);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form ref={form} className={className} onSubmit={submit} aria-labelledby={`${prefix}-title`} noValidate>
      <Heading id={`${prefix}-title`}>{heading}</Heading>
      <PoolNameFields
        prefix={prefix}
        name={name}
        description={description}
        errors={errors}
        onName={setName}
        onDescription={setDescription}
      />
      {failure && (
        <p className="notice error" role="alert">
          {failure}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className={`button${clearOnSave ? " primary" : ""}`} disabled={busy}>
          {busy ? busyLabel : submitLabel}
        </button>
      </div>
    </form>
  );
}

function CreatePool({ onCreated }: { onCreated: (pool: Pool) => void }) {
  return (
    <PoolForm
      prefix="new-pool"
      heading="New pool"
      headingLevel="h2"
      className="panel create-pool"
      initial={{ name: "", description: "" }}
      submitLabel="Create pool"
      busyLabel="Creating…"
      clearOnSave
      onSave={async (body) => onCreated(await consoleApi.createPool(body))}
    />
  );
}

interface DetailProps {
  pool: Pool;
  lookups: Lookups;
  onChanged: (pool: Pool, message: string) => void;
  onDeleted: (pool: Pool) => void;
}

function PoolDetail({ pool, lookups, onChanged, onDeleted }: DetailProps) {
  const [error, setError] = useState<unknown>(null);
  const [confirming, setConfirming] = useState(false);

  async function act(work: () => Promise<Pool>, message: string) {
    setError(null);
    try {
      onChanged(await work(), message);
    } catch (caught) {
      setError(caught);
    }
  }

  async function remove() {
    setError(null);
    try {
      await consoleApi.deletePool(pool.id);
      onDeleted(pool);
    } catch (caught) {
      setError(caught);
      setConfirming(false);
    }
  }

  const raterName = (id: number) => lookups.raters.find((r) => r.id === id)?.username ?? `user #${id}`;
  const campaignName = (id: number) => lookups.campaigns.find((c) => c.id === id)?.name ?? `campaign #${id}`;
  return (
    <section id="pool-detail" ref={revealOnMount} className="panel detail pool-detail" aria-labelledby="pool-detail-title">
      <h2 id="pool-detail-title">{pool.name}</h2>
      <ErrorNotice error={error} />
      <div className="detail-grid">
        <Membership
          title="Raters"
          idPrefix={`pool-${pool.id}-raters`}
          current={pool.member_ids}
          options={lookups.raters.map((r) => ({ id: r.id, name: r.username, note: r.status === "paused" ? "paused" : r.role }))}
          nameOf={raterName}
          addLabel="Add rater"
          removeLabel="Remove"
          emptyText="No raters in this pool."
          onAdd={(id) => act(() => consoleApi.changeMembers(pool.id, { add: [id] }), `${raterName(id)} added to “${pool.name}”.`)}
          onRemove={(id) => act(() => consoleApi.changeMembers(pool.id, { remove: [id] }), `${raterName(id)} removed from “${pool.name}”.`)}
        />
        <Membership
          title="Campaigns"
          idPrefix={`pool-${pool.id}-campaigns`}
          current={pool.campaign_ids}
          options={lookups.campaigns.map((c) => ({ id: c.id, name: c.name, note: c.status ?? "" }))}
          nameOf={campaignName}
          addLabel="Assign campaign"
          removeLabel="Unassign"
          emptyText="No campaigns assigned: its raters get no tasks."
          onAdd={(id) => act(() => consoleApi.changeCampaigns(pool.id, { add: [id] }), `“${campaignName(id)}” assigned to “${pool.name}”.`)}
          onRemove={(id) => act(() => consoleApi.changeCampaigns(pool.id, { remove: [id] }), `“${campaignName(id)}” unassigned from “${pool.name}”.`)}
        />
      </div>
      <div className="detail-grid">
        <PoolForm
          prefix={`pool-${pool.id}`}
          heading="Rename"
          headingLevel="h3"
          initial={{ name: pool.name, description: pool.description ?? "" }}
          submitLabel="Save name"
          busyLabel="Saving…"
          onSave={async (body) => onChanged(await consoleApi.updatePool(pool.id, body), `Pool “${body.name}” saved.`)}
        />
        <div>
          <h3>Delete</h3>
          <p className="field-hint">Its raters and campaigns stay; only the grouping goes.</p>
          {confirming ? (
            <div className="confirm" role="group" aria-label="Confirm deletion">
              <span>Delete “{pool.name}” for good?</span>
              <button type="button" className="button danger" onClick={remove} autoFocus>
                Yes, delete
              </button>
              <button type="button" className="button" onClick={() => setConfirming(false)}>
                Keep it
              </button>
            </div>
          ) : (
            <button type="button" className="button danger" onClick={() => setConfirming(true)}>
              Delete pool…
            </button>
          )}
        </div>
      </div>
    </section>
  );
}

interface MembershipProps {
  title: string;
  idPrefix: string;
  current: number[];
  options: { id: number; name: string; note: string }[];
  nameOf: (id: number) => string;
  addLabel: string;
  removeLabel: string;
  emptyText: string;
  onAdd: (id: number) => Promise<void>;
  onRemove: (id: number) => Promise<void>;
}

/** The pool's current members (or campaigns) with remove buttons, and a picker to add one. */
function Membership({ title, idPrefix, current, options, nameOf, addLabel, removeLabel, emptyText, onAdd, onRemove }: MembershipProps) {
  const addable = options.filter((o) => !current.includes(o.id));
  const [choice, setChoice] = useState("");
  const [busy, setBusy] = useState(false);
  const picked = addable.some((o) => String(o.id) === choice) ? choice : "";
  async function run(work: Promise<void>) {
    setBusy(true);
    await work;
    setBusy(false);
  }
  return (
    <div className="membership">
      <h3 id={`${idPrefix}-title`}>{title}</h3>
      <ul className="member-list" aria-labelledby={`${idPrefix}-title`}>
        {current.length === 0 && <li className="muted">{emptyText}</li>}
        {current.map((id) => (
          <li key={id}>
            <span>{nameOf(id)}</span>
            <button type="button" className="button small" disabled={busy} onClick={() => run(onRemove(id))}>
              {removeLabel}
              <span className="visually-hidden"> {nameOf(id)}</span>
            </button>
          </li>
        ))}
      </ul>
      <form
        className="add-row"
        onSubmit={(event) => {
          event.preventDefault();
          if (picked) run(onAdd(Number(picked))).then(() => setChoice(""));
        }}
      >
        <label htmlFor={`${idPrefix}-pick`} className="visually-hidden">
          {addLabel}
        </label>
        <select id={`${idPrefix}-pick`} className="input" value={picked} onChange={(e) => setChoice(e.target.value)} disabled={addable.length === 0}>
          <option value="">{addable.length === 0 ? "All are added" : `Choose…`}</option>
          {addable.map((o) => (
            <option key={o.id} value={o.id}>
              {o.name}
              {o.note ? ` (${o.note})` : ""}
            </option>
          ))}
        </select>
        <button type="submit" className="button" disabled={!picked || busy}>
          {addLabel}
        </button>
      </form>
    </div>
  );
}
