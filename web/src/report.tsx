// A `suanpan sim` report opened in the browser: the directory's report.json (figures per
// policy), jobs.csv (per job: the JCT CDF) and timeline.json (utilization and queue over time),
// read from the files the user picks; nothing leaves the browser. Policies side by side.
import { useState } from "preact/hooks";
import { TimeChart, type Series } from "./chart";
import { t } from "./i18n";
import { Section, num } from "./ui";

type PolicyFigures = {
  policy: string;
  jobs: number;
  finished: number;
  jct_seconds: { mean: number; median: number; p95: number; p99: number };
  queueing_seconds: { mean: number };
  makespan_seconds: number;
  utilization: number;
  fragmentation: number;
  preemptions: number;
  jain_index: number;
};
type Report = { trace: string; pool: string; jobs: number; devices: number; policies: PolicyFigures[] };
type Timeline = {
  devices: number;
  policies: { policy: string; utilization: { t: number[]; share: number[] }; queue: { t: number[]; jobs: number[] } }[];
};

// Series on one shared x (the union of their points), each held at its last value (step functions).
function align(series: { name: string; x: number[]; y: number[] }[]): { x: number[]; ys: number[][] } {
  const x = [...new Set(series.flatMap((s) => s.x))].sort((a, b) => a - b);
  const ys = series.map((s) => {
    const out: number[] = [];
    let j = 0;
    let v = 0;
    for (const xi of x) {
      while (j < s.x.length && s.x[j] <= xi) v = s.y[j++];
      out.push(v);
    }
    return out;
  });
  return { x, ys };
}

// The JCT CDF per policy from jobs.csv (finished jobs' jct), on a shared grid of JCTs.
function cdf(csv: string): { x: number[]; ys: number[][]; names: string[] } {
  const lines = csv.trim().split("\n");
  const head = lines[0].split(",");
  const pi = head.indexOf("policy"), ji = head.indexOf("jct");
  if (pi < 0 || ji < 0) throw new Error("jobs.csv: no policy or jct column (is it a suanpan sim jobs.csv?)");
  const by = new Map<string, number[]>();
  for (const line of lines.slice(1)) {
    const f = line.split(",");
    const v = Number(f[ji]);
    if (f[ji] === "" || Number.isNaN(v)) continue;
    if (!by.has(f[pi])) by.set(f[pi], []);
    by.get(f[pi])!.push(v);
  }
  const names = [...by.keys()];
  const series = names.map((n) => {
    const v = by.get(n)!.sort((a, b) => a - b);
    return { name: n, x: v, y: v.map((_, i) => (i + 1) / v.length) };
  });
  const { x, ys } = align(series);
  return { x, ys, names };
}

export function ReportPage() {
  const [report, setReport] = useState<Report | null>(null);
  const [timeline, setTimeline] = useState<Timeline | null>(null);
  const [jobs, setJobs] = useState<string | null>(null);
  const [error, setError] = useState("");
  const [logx, setLogx] = useState(true);
  const open = async (files: FileList | null) => {
    setError("");
    for (const f of Array.from(files ?? [])) {
      try {
        const text = await f.text();
        if (f.name.endsWith("report.json")) setReport(JSON.parse(text));
        else if (f.name.endsWith("timeline.json")) setTimeline(JSON.parse(text));
        else if (f.name.endsWith(".csv")) {
          cdf(text);
          setJobs(text);
        } else throw new Error("not a report.json, timeline.json or jobs.csv");
      } catch (e) {
        setError(`${f.name}: ${(e as Error).message}`);
      }
    }
  };
  const c = jobs ? cdf(jobs) : null;
  const util = timeline
    ? align(timeline.policies.map((p) => ({ name: p.policy, x: p.utilization.t, y: p.utilization.share.map((s) => 100 * s) })))
    : null;
  const queue = timeline ? align(timeline.policies.map((p) => ({ name: p.policy, x: p.queue.t, y: p.queue.jobs }))) : null;
  const names = timeline?.policies.map((p) => p.policy) ?? [];
  return (
    <div>
      <Section id="report-open" title={t("Simulator report")}>
        <p class="muted">{t("Open the report.json, jobs.csv and timeline.json of a suanpan sim --out directory.")}</p>
        <input type="file" multiple accept=".json,.csv" name="report-files" onChange={(e) => open((e.target as HTMLInputElement).files)} />
        {error && (
          <div class="error" role="alert">
            {error}
          </div>
        )}
      </Section>
      {report && (
        <Section id="report-policies" title={`${report.trace} · ${report.pool} · ${report.jobs} ${t("Jobs").toLowerCase()} · ${report.devices} ${t("Devices").toLowerCase()}`}>
          <table>
            <thead>
              <tr>
                <th>{t("Policy")}</th>
                <th class="r">{t("Finished")}</th>
                <th class="r">{t("Mean JCT (s)")}</th>
                <th class="r">{t("Median")}</th>
                <th class="r">{t("p95")}</th>
                <th class="r">{t("p99")}</th>
                <th class="r">{t("Mean queueing (s)")}</th>
                <th class="r">{t("Makespan (s)")}</th>
                <th class="r">{t("Utilization")}</th>
                <th class="r">{t("Fragmentation")}</th>
                <th class="r">{t("Preemptions")}</th>
                <th class="r">{t("Jain index")}</th>
              </tr>
            </thead>
            <tbody>
              {report.policies.map((p) => (
                <tr data-policy={p.policy}>
                  <td>{p.policy}</td>
                  <td class="r">{p.finished}</td>
                  <td class="r">{num(p.jct_seconds.mean, 2)}</td>
                  <td class="r">{num(p.jct_seconds.median, 1)}</td>
                  <td class="r">{num(p.jct_seconds.p95)}</td>
                  <td class="r">{num(p.jct_seconds.p99)}</td>
                  <td class="r">{num(p.queueing_seconds.mean, 2)}</td>
                  <td class="r">{num(p.makespan_seconds)}</td>
                  <td class="r">{(100 * p.utilization).toFixed(1)} %</td>
                  <td class="r">{(100 * p.fragmentation).toFixed(1)} %</td>
                  <td class="r">{p.preemptions}</td>
                  <td class="r">{p.jain_index.toFixed(3)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
      )}
      {c && (
        <Section id="report-cdf" title={t("JCT distribution")}>
          <label class="muted">
            <input type="checkbox" checked={logx} onChange={(e) => setLogx((e.target as HTMLInputElement).checked)} name="logx" /> {t("log scale")}
          </label>
          <TimeChart
            id="cdf-chart"
            time={false}
            step
            logx={logx}
            xlabel={t("JCT (s)")}
            t={logx ? c.x.map((v) => Math.max(v, 0.1)) : c.x}
            series={c.names.map((n, i) => ({ label: n, values: c.ys[i] }) as Series)}
            left={t("share of jobs")}
          />
        </Section>
      )}
      {util && queue && (
        <>
          <Section id="report-util" title={t("Devices allocated over time") + " (%)"}>
            <TimeChart id="util-chart" time={false} step t={util.x} series={names.map((n, i) => ({ label: n, values: util.ys[i] }))} left="%" />
          </Section>
          <Section id="report-queue" title={t("Jobs waiting over time")}>
            <TimeChart id="queue-chart" time={false} step t={queue.x} series={names.map((n, i) => ({ label: n, values: queue.ys[i] }))} left={t("Jobs waiting")} />
          </Section>
        </>
      )}
    </div>
  );
}
