// The queue: waiting jobs in the scheduler's order with why they wait and when they are expected
// to start (GET /v1/queue), and all jobs newest first, filtered and paged (GET /v1/jobs, 100 at
// a time).
import { useState } from "preact/hooks";
import { usePoll, type Job, type JobPage, type Provider, type Queue, type Tenant } from "./api";
import { t } from "./i18n";
import { Badge, Choice, Failure, Section, time } from "./ui";

const STATES = ["pending", "admitted", "running", "preempted", "succeeded", "failed", "cancelled"];

export function QueuePage(props: { query: URLSearchParams; role: string; scope: string }) {
  const admin = props.role === "admin";
  // Choices, not free text: a filter never asks the server for a tenant that does not exist
  // (or that this token may not read). A tenant's token lists its own tenant's jobs.
  const [tenant, setTenant] = useState(admin ? (props.query.get("tenant") ?? "") : "");
  const [state, setState] = useState(props.query.get("state") ?? "");
  const [provider, setProvider] = useState("");
  const [type, setType] = useState("");
  const [name, setName] = useState("");
  const [typed, setTyped] = useState("");
  const [before, setBefore] = useState<number[]>([]);
  const tenants = usePoll<{ items: Tenant[] }>(admin ? "/v1/tenants" : null, 60000);
  const providers = usePoll<{ items: Provider[] }>(props.role === "partner" ? null : "/v1/providers", 60000);
  const q = usePoll<Queue>("/v1/queue?limit=500", 3000);
  const params = new URLSearchParams({ limit: "100", order: "newest" });
  if (tenant) params.set("tenant", tenant);
  if (state) params.set("state", state);
  if (name) params.set("name", name);
  if (before.length) params.set("before", String(before[before.length - 1]));
  const jobs = usePoll<JobPage>(`/v1/jobs?${params}`, 3000);
  const waiting = (q.data?.items ?? []).filter((e) => (!tenant || e.tenant === tenant) && (!name || e.name === name));
  const shown = (jobs.data?.items ?? []).filter(
    (j) =>
      (!provider || j.placement?.provider === provider) &&
      (!type || j.placement?.device_type === type || (j.spec?.device_types ?? []).includes(type)),
  );
  const tenantNames = (tenants.data?.items ?? []).map((x) => x.name);
  const providerList = providers.data?.items ?? [];
  const types = [...new Set(providerList.flatMap((p) => Object.keys(p.price_yuan_per_device_hour ?? {})))].sort();
  const reset = () => setBefore([]);
  return (
    <div>
      <p class="hint">
        {t("Submit and follow jobs with the CLI:")} <code>suanpan submit -G 8 -- python train.py</code>, <code>suanpan explain ID</code>; {t("a job's page can cancel it.")}
      </p>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setName(typed.trim());
          reset();
        }}
      >
        {admin && (
          <Choice label={t("Tenant")} name="tenant" value={tenant} options={tenantNames} onChange={(v) => (setTenant(v), reset())} />
        )}
        <Choice label={t("State")} name="state" value={state} options={STATES.map((s) => [s, t(s)])} onChange={(v) => (setState(v), reset())} />
        {providerList.length > 0 && (
          <Choice label={t("Provider")} name="provider" value={provider} options={providerList.map((p) => p.name)} onChange={setProvider} />
        )}
        {types.length > 0 && <Choice label={t("Type")} name="type" value={type} options={types} onChange={setType} />}
        <label>
          {t("Name")} <input value={typed} onInput={(e) => setTyped((e.target as HTMLInputElement).value)} name="name" placeholder={t("exact name, Enter")} />
        </label>
        {name && (
          <button type="button" class="link" onClick={() => (setName(""), setTyped(""), reset())}>
            × {name}
          </button>
        )}
      </form>
      <Section
        id="waiting"
        title={`${t("Waiting jobs in order")} (${q.data ? (tenant || name ? `${waiting.length} / ${q.data.length}` : String(q.data.length)) : "…"})`}
        right={q.data?.policy}
      >
        <Failure error={q.error} />
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th class="r">{t("Position")}</th>
                <th>ID</th>
                <th>{t("Name")}</th>
                <th>{t("Tenant")}</th>
                <th class="r">{t("Devices")}</th>
                <th>{t("Reason")}</th>
                <th>{t("Expected start")}</th>
              </tr>
            </thead>
            <tbody>
              {waiting.map((e) => (
                <tr data-job={e.id}>
                  <td class="r">{e.position}</td>
                  <td>
                    <a href={`#/jobs/${e.id}`}>{e.id}</a>
                  </td>
                  <td>{e.name}</td>
                  <td>{e.tenant}</td>
                  <td class="r">{e.devices}</td>
                  <td class="reason">{e.reason}</td>
                  <td>{time(e.earliest_start)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {q.data && q.data.length > (q.data.items?.length ?? 0) && (
          <div class="muted">
            {t("The first")} {q.data.items.length} {t("of")} {q.data.length} {t("shown")}
          </div>
        )}
      </Section>
      <Section id="jobs" title={t("All jobs, newest first")}>
        <Failure error={jobs.error} />
        <JobsTable jobs={shown} />
        <div class="pager">
          {before.length > 0 && <button onClick={() => setBefore(before.slice(0, -1))}>← {t("Newer")}</button>}
          {jobs.data?.next_before != null && <button onClick={() => setBefore([...before, jobs.data!.next_before!])}>{t("Older")} →</button>}
        </div>
      </Section>
    </div>
  );
}

export function JobsTable(props: { jobs: Job[] }) {
  return (
    <table id="jobs-table">
      <thead>
        <tr>
          <th>ID</th>
          <th>{t("Name")}</th>
          <th>{t("Tenant")}</th>
          <th>{t("User")}</th>
          <th>{t("State")}</th>
          <th class="r">{t("Devices")}</th>
          <th>{t("Provider")}</th>
          <th>{t("Submitted")}</th>
          <th>{t("Reason")}</th>
        </tr>
      </thead>
      <tbody>
        {props.jobs.map((j) => (
          <tr data-job={j.id} data-state={j.state}>
            <td>
              <a href={`#/jobs/${j.id}`}>{j.id}</a>
            </td>
            <td>{j.name}</td>
            <td>{j.project ? `${j.tenant}/${j.project}` : j.tenant}</td>
            <td>{j.user}</td>
            <td>
              <Badge value={j.state} />
            </td>
            <td class="r">
              {j.devices} {j.placement?.device_type ?? (j.spec?.device_types ?? []).join(" | ")}
            </td>
            <td>{j.placement?.provider ?? "—"}</td>
            <td>{time(j.submitted)}</td>
            <td class="reason">{j.reason}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
