// The queue: waiting jobs in the scheduler's order with why they wait and when they are expected
// to start (GET /v1/queue), and all jobs, filtered and paged (GET /v1/jobs, 100 at a time).
import { useState } from "preact/hooks";
import { usePoll, type Job, type JobPage, type Queue } from "./api";
import { t } from "./i18n";
import { Badge, Failure, Section, time } from "./ui";

const STATES = ["", "pending", "admitted", "running", "preempted", "succeeded", "failed", "cancelled"];

export function QueuePage(props: { query: URLSearchParams }) {
  const [tenant, setTenant] = useState(props.query.get("tenant") ?? "");
  const [state, setState] = useState(props.query.get("state") ?? "");
  const [provider, setProvider] = useState("");
  const [type, setType] = useState("");
  const [after, setAfter] = useState<number[]>([]);
  const q = usePoll<Queue>("/v1/queue?limit=500", 3000);
  const params = new URLSearchParams({ limit: "100" });
  if (tenant) params.set("tenant", tenant);
  if (state) params.set("state", state);
  if (after.length) params.set("after", String(after[after.length - 1]));
  const jobs = usePoll<JobPage>(`/v1/jobs?${params}`, 3000);
  const waiting = (q.data?.items ?? []).filter((e) => !tenant || e.tenant === tenant);
  const shown = (jobs.data?.items ?? []).filter(
    (j) =>
      (!provider || j.placement?.provider === provider) &&
      (!type || j.placement?.device_type === type || (j.spec?.devices?.type ?? "") === type),
  );
  return (
    <div>
      <div class="filters">
        <label>
          {t("Tenant")} <input value={tenant} onInput={(e) => (setTenant((e.target as HTMLInputElement).value), setAfter([]))} name="tenant" />
        </label>
        <label>
          {t("State")}{" "}
          <select value={state} onChange={(e) => (setState((e.target as HTMLSelectElement).value), setAfter([]))} name="state">
            {STATES.map((s) => (
              <option value={s}>{s || t("All")}</option>
            ))}
          </select>
        </label>
        <label>
          {t("Provider")} <input value={provider} onInput={(e) => setProvider((e.target as HTMLInputElement).value)} name="provider" />
        </label>
        <label>
          {t("Type")} <input value={type} onInput={(e) => setType((e.target as HTMLInputElement).value)} name="type" />
        </label>
      </div>
      <Section id="waiting" title={`${t("Waiting jobs in order")} (${q.data ? waiting.length : "…"})`} right={q.data?.policy}>
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
      </Section>
      <Section id="jobs" title={t("All jobs")}>
        <Failure error={jobs.error} />
        <JobsTable jobs={shown} />
        <div class="pager">
          {after.length > 0 && <button onClick={() => setAfter(after.slice(0, -1))}>←</button>}
          {jobs.data?.next_after != null && <button onClick={() => setAfter([...after, jobs.data!.next_after!])}>{t("More")} →</button>}
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
            <td class="r">{j.devices}</td>
            <td>{j.placement?.provider ?? "—"}</td>
            <td>{time(j.submitted)}</td>
            <td class="reason">{j.reason}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
