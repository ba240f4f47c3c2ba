// One job: what it asked for, where it runs (provider, cluster, nodes, devices), its events as a
// timeline, a worker's log tailed live, why it waits (the same what-if as `suanpan explain`), and
// its cost so far as the server rates it (every attempt, each at its run's frozen price).
import { useEffect, useRef, useState } from "preact/hooks";
import { get, post, usePoll, type EventItem, type Explain, type Job, type LogChunk } from "./api";
import { t } from "./i18n";
import { Badge, Failure, Section, time } from "./ui";

export function JobPage(props: { id: string; role: string }) {
  const job = usePoll<Job>(`/v1/jobs/${props.id}`, 2000);
  const events = usePoll<{ items: EventItem[] }>(job.error ? null : `/v1/jobs/${props.id}/events`, 2000);
  const j = job.data;
  const queued = j != null && ["pending", "preempted"].includes(j.state);
  // Why it waits as the CLI's `suanpan explain` says it: a what-if round on the live state.
  const why = usePoll<Explain>(queued ? `/v1/jobs/${props.id}/explain` : null, 5000);
  const [cancelling, setCancelling] = useState("");
  if (!j) return <div>{job.error ? <Failure error={job.error} /> : t("Loading")}</div>;
  const run = j.placement;
  const workers = run?.workers.length ?? 1;
  const spec = j.spec ?? {};
  const done = ["succeeded", "failed", "cancelled"].includes(j.state);
  const shape = `${spec.workers ?? 1} × ${spec.devices_per_worker ?? "?"} ${(spec.device_types ?? []).join(" | ") || t("any type")}`;
  const w = why.data?.pending ? why.data : null;
  const cancel = async () => {
    if (!window.confirm(`${t("Cancel job")} ${j.id} (${j.name})?`)) return;
    try {
      await post(`/v1/jobs/${j.id}/cancel`);
      setCancelling(t("Cancelled"));
    } catch (e) {
      setCancelling(String((e as Error).message));
    }
  };
  return (
    <div>
      <h1>
        {t("Job")} {j.id} · {j.name} <Badge value={j.state} />
        {!done && ["admin", "tenant-admin", "member"].includes(props.role) && (
          <button id="cancel" class="danger" onClick={cancel}>
            {t("Cancel job")}
          </button>
        )}
        {cancelling && <span class="muted"> {cancelling}</span>}
      </h1>
      <div class="kv" id="job-facts">
        <span>{t("Tenant")}</span>
        <b>{j.project ? `${j.tenant}/${j.project}` : j.tenant}</b>
        <span>{t("User")}</span>
        <b>{j.user}</b>
        <span>{t("Shape")}</span>
        <b id="job-shape">
          {shape} ({j.devices} {t("devices")})
          {spec.priority_class ? ` · ${spec.priority_class}` : ""}
        </b>
        <span>{t("Command")}</span>
        <code id="job-command">{(spec.command ?? []).join(" ")}</code>
        {spec.image && <span>{t("Image")}</span>}
        {spec.image && <code>{spec.image}</code>}
        <span>{t("Submitted")}</span>
        <b>{time(j.submitted)}</b>
        <span>{t("Attempts")}</span>
        <b id="job-attempts">{j.attempts}</b>
        {run && <span>{t("Started")}</span>}
        {run && <b>{time(run.started)}</b>}
        {run?.ended && <span>{t("Ended")}</span>}
        {run?.ended && <b>{time(run.ended)}</b>}
        {j.exit_code != null && <span>{t("Exit code")}</span>}
        {j.exit_code != null && <b id="job-exit">{j.exit_code}</b>}
        <span>{queued ? t("Why pending") : t("Reason")}</span>
        <b class="reason" id="job-reason">{(w?.reason ?? j.reason) || "—"}</b>
        {w?.position != null && <span>{t("Queue position")}</span>}
        {w?.position != null && <b id="job-position">{w.position}</b>}
        {queued && <span>{t("Expected start")}</span>}
        {queued && <b>{time(w?.earliest_start ?? j.earliest_start)}</b>}
        <span>{t("Cost so far")}</span>
        <b id="job-cost" title={t("Every attempt, each at the price frozen when it was placed")}>
          ¥{j.cost_yuan}
        </b>
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
      <LogTail id={j.id} workers={workers} done={done} />
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
