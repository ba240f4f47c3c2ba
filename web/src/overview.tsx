// The hub at a glance: devices by state and throughput, utilization over time, providers,
// device types, regions, the queue by tenant and alerts (GET /v1/overview, /v1/utilization).
import { useState } from "preact/hooks";
import { usePoll, type Overview, type Utilization } from "./api";
import { TimeChart, type Series } from "./chart";
import { t } from "./i18n";
import { Badge, Card, duration, Failure, num, Section, StateBar } from "./ui";

export function OverviewPage() {
  const ov = usePoll<Overview>("/v1/overview", 3000);
  const [hours, setHours] = useState(6);
  const util = usePoll<Utilization>(`/v1/utilization?hours=${hours}&points=180`, 10000);
  const o = ov.data;
  if (!o) return <div>{ov.error ? <Failure error={ov.error} /> : t("Loading")}</div>;
  const d = o.devices;
  const u = util.data;
  const series: Series[] = [];
  if (u) {
    const types = Object.keys(u.allocated);
    for (const ty of types) series.push({ label: `${ty}`, values: u.allocated[ty] });
    series.push({ label: t("Devices"), values: u.t.map(() => u.devices), dash: true });
    series.push({ label: t("Jobs waiting (mean)"), values: u.queued, axis: "right" });
  }
  return (
    <div>
      <div class="cards">
        <Card id="devices-total" title={t("Devices")} value={num(d.total, 3)} sub={`${num(o.providers.length)} ${o.providers.length === 1 ? t("provider") : t("providers")}`} />
        <Card id="devices-allocated" title={t("Allocated")} value={num(d.allocated, 3)} sub={d.total ? `${((100 * d.allocated) / d.total).toFixed(1)} %` : ""} />
        <Card id="devices-free" title={t("Free")} value={num(d.free, 3)} />
        <Card id="devices-down" title={t("Down")} value={num(d.down, 3)} tone={d.down > 0 ? "warn" : ""} />
        <Card id="pflops" title={t("Peak PFLOPS (FP16)")} value={num(d.pflops, 1)} sub={`${num(d.pflops_allocated, 1)} ${t("Allocated").toLowerCase()}`} />
        <Card id="jobs-queued" title={t("Queued jobs")} value={num(o.jobs.queued)} />
        <Card id="jobs-running" title={t("Running jobs")} value={num(o.jobs.running)} />
      </div>
      <Section
        id="utilization"
        title={t("Utilization")}
        right={
          <select value={hours} onChange={(e) => setHours(Number((e.target as HTMLSelectElement).value))} aria-label="hours">
            {[1, 6, 24, 24 * 7, 24 * 30].map((h) => (
              <option value={h}>{h < 48 ? `${h} h` : `${h / 24} d`}</option>
            ))}
          </select>
        }
      >
        {u ? <TimeChart id="utilization-chart" t={u.t} series={series} left={t("Devices")} right={t("Jobs waiting (mean)")} /> : <Failure error={util.error} />}
      </Section>
      <Section id="alerts" title={t("Alerts")}>
        {o.alerts.length === 0 ? (
          <div class="muted">{t("No alerts")}</div>
        ) : (
          <ul class="alerts">
            {o.alerts.map((a) => (
              <li class={a.severity}>
                <Badge value={a.severity} /> {a.message}
              </li>
            ))}
          </ul>
        )}
      </Section>
      <Section id="providers" title={t("Providers")}>
        <table>
          <thead>
            <tr>
              <th>{t("Provider")}</th>
              <th>{t("Region")}</th>
              <th>{t("Backend")}</th>
              <th>{t("State")}</th>
              <th class="r">{t("Devices")}</th>
              <th class="r">{t("Allocated")}</th>
              <th class="r">{t("Free")}</th>
              <th class="r">{t("Down")}</th>
              <th class="r">PFLOPS</th>
              <th class="wide" />
            </tr>
          </thead>
          <tbody>
            {o.providers.map((p) => (
              <tr data-provider={p.name}>
                <td>{p.name}</td>
                <td>{p.region}</td>
                <td>{p.backend}</td>
                <td title={p.message}>
                  <Badge value={p.state} />
                </td>
                <td class="r">{num(p.devices.total, 3)}</td>
                <td class="r">{num(p.devices.allocated, 3)}</td>
                <td class="r">{num(p.devices.free, 3)}</td>
                <td class="r">{num(p.devices.down, 3)}</td>
                <td class="r">{num(p.devices.pflops, 1)}</td>
                <td>
                  <StateBar s={p.devices} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <div class="two">
        <Section id="types" title={t("Device types")}>
          <StatesTable rows={o.by_type} label={t("Type")} />
        </Section>
        <Section id="regions" title={t("Regions")}>
          <StatesTable rows={o.by_region} label={t("Region")} />
        </Section>
      </div>
      <Section id="queue-by-tenant" title={t("Queue by tenant")}>
        <table>
          <thead>
            <tr>
              <th>{t("Tenant")}</th>
              <th class="r">{t("Queued")}</th>
              <th class="r">{t("Running")}</th>
              <th class="r">{t("Oldest wait")}</th>
              <th class="r">{t("Mean wait")}</th>
            </tr>
          </thead>
          <tbody>
            {o.tenants.map((q) => (
              <tr>
                <td>
                  <a href={`#/queue?tenant=${encodeURIComponent(q.tenant)}`}>{q.tenant}</a>
                </td>
                <td class="r">{q.queued}</td>
                <td class="r">{q.running}</td>
                <td class="r">{q.queued ? duration(q.oldest_wait_seconds) : "—"}</td>
                <td class="r">{q.queued ? duration(q.mean_wait_seconds) : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
    </div>
  );
}

function StatesTable(props: { rows: Overview["by_type"]; label: string }) {
  return (
    <table>
      <thead>
        <tr>
          <th>{props.label}</th>
          <th class="r">{t("Total")}</th>
          <th class="r">{t("Allocated")}</th>
          <th class="r">{t("Free")}</th>
          <th class="r">PFLOPS</th>
          <th class="wide" />
        </tr>
      </thead>
      <tbody>
        {Object.entries(props.rows).map(([k, s]) => (
          <tr>
            <td>{k}</td>
            <td class="r">{num(s.total, 3)}</td>
            <td class="r">{num(s.allocated, 3)}</td>
            <td class="r">{num(s.free, 3)}</td>
            <td class="r">{num(s.pflops, 1)}</td>
            <td>
              <StateBar s={s} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
