// One job: what it asked for, where it runs (provider, cluster, nodes, devices), its events as a
// timeline, a worker's log tailed live, and its cost so far at the price frozen for the run.
import { useEffect, useRef, useState } from "preact/hooks";
import { get, usePoll, type EventItem, type Job, type LogChunk, type Provider } from "./api";
import { t } from "./i18n";
import { Badge, Failure, Section, time } from "./ui";

export function JobPage(props: { id: string }) {
  const job = usePoll<Job>(`/v1/jobs/${props.id}`, 2000);
  const events = usePoll<{ items: EventItem[] }>(`/v1/jobs/${props.id}/events`, 2000);
  const providers = usePoll<{ items: Provider[] }>("/v1/providers", 60000);
  const j = job.data;
  if (!j) return <div>{job.error ? <Failure error={job.error} /> : t("Loading")}</div>;
  const run = j.placement;
  const price = run ? Number(providers.data?.items.find((p) => p.name === run.provider)?.price_yuan_per_device_hour?.[run.device_type] ?? NaN) : NaN;
  const hours = run ? ((run.ended ? Date.parse(run.ended) : Date.now()) - Date.parse(run.started)) / 3.6e6 : 0;
  const cost = run && !Number.isNaN(price) ? Number(j.devices) * hours * price : null;
  const workers = run?.workers.length ?? 1;
  return (
    <div>
      <h1>
        {t("Job")} {j.id} · {j.name} <Badge value={j.state} />
      </h1>
      <div class="kv" id="job-facts">
        <span>{t("Tenant")}</span>
        <b>{j.project ? `${j.tenant}/${j.project}` : j.tenant}</b>
        <span>{t("User")}</span>
        <b>{j.user}</b>
        <span>{t("Devices")}</span>
        <b>{j.devices}</b>
        <span>{t("Submitted")}</span>
        <b>{time(j.submitted)}</b>
        <span>{t("Reason")}</span>
        <b class="reason">{j.reason || "—"}</b>
        <span>{t("Cost so far")}</span>
        <b id="job-cost">{cost == null ? "—" : `¥${cost.toFixed(2)}`}</b>
      </div>
      <Section id="placement" title={t("Placement")}>
        {run ? (
          <table>
            <thead>
              <tr>
                <th>{t("Worker")}</th>
                <th>{t("Provider")}</th>
                <th>{t("Cluster")}</th>
                <th>{t("Node")}</th>
                <th>{t("Devices")}</th>
              </tr>
            </thead>
            <tbody>
              {run.workers.map((w, rank) => (
                <tr>
                  <td>{rank}</td>
                  <td>{run.provider}</td>
                  <td>{run.cluster}</td>
                  <td>
                    <a href={`#/nodes?node=${encodeURIComponent(w.node)}`}>{w.node}</a>
                  </td>
                  <td>
                    {run.device_type} [{w.devices.join(", ")}]{w.share < 1000 ? ` × ${w.share / 1000}` : ""}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <div class="muted">{t("Not placed yet")}</div>
        )}
      </Section>
      <Section id="events" title={t("Events")}>
        <ol class="timeline">
          {(events.data?.items ?? []).map((e) => (
            <li>
              <time>{time(e.time)}</time> <Badge value={e.kind} /> {e.message}
            </li>
          ))}
        </ol>
      </Section>
      <LogTail id={j.id} workers={workers} done={["succeeded", "failed", "cancelled"].includes(j.state)} />
    </div>
  );
}

// Follows a worker's output from offset 0: each read asks for what came after the last one.
function LogTail(props: { id: number; workers: number; done: boolean }) {
  const [worker, setWorker] = useState(0);
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const pre = useRef<HTMLPreElement>(null);
  useEffect(() => {
    let stop = false;
    let offset = 0;
    let timer: number | undefined;
    setText("");
    setError("");
    const tick = async () => {
      try {
        for (;;) {
          const c = await get<LogChunk>(`/v1/jobs/${props.id}/logs?worker=${worker}&offset=${offset}`);
          if (stop) return;
          if (c.data) setText((s) => (s + c.data).slice(-200_000));
          if (c.next_offset === offset || !c.data) break;
          offset = c.next_offset;
        }
      } catch (e) {
        if (!stop) setError(String((e as Error).message));
      }
      if (!stop) timer = window.setTimeout(tick, 1500);
    };
    tick();
    return () => {
      stop = true;
      window.clearTimeout(timer);
    };
  }, [props.id, worker]);
  useEffect(() => {
    if (pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [text]);
  return (
    <Section
      id="logs"
      title={t("Logs")}
      right={
        <select value={worker} onChange={(e) => setWorker(Number((e.target as HTMLSelectElement).value))} aria-label="worker">
          {Array.from({ length: props.workers }, (_, i) => (
            <option value={i}>
              {t("Worker")} {i}
            </option>
          ))}
        </select>
      }
    >
      {error && <div class="muted">{error}</div>}
      <pre class="log" id="log" ref={pre}>
        {text}
      </pre>
    </Section>
  );
}
