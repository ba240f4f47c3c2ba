// Small pieces every page uses: numbers, durations, bars, badges, errors.
import type { ComponentChildren } from "preact";
import type { ApiError, States } from "./api";
import { t } from "./i18n";

export function num(x: number, digits = 0): string {
  return x.toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400 * 2) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

export function time(iso: string | null | undefined): string {
  if (!iso) return "—";
  return new Date(iso).toLocaleString();
}

export function Card(props: { title: string; value: string; sub?: string; id?: string; tone?: string }) {
  return (
    <div class={`card ${props.tone ?? ""}`} id={props.id}>
      <div class="card-title">{props.title}</div>
      <div class="card-value" data-testid={props.id}>
        {props.value}
      </div>
      {props.sub && <div class="card-sub">{props.sub}</div>}
    </div>
  );
}

// A bar of device states: allocated, partner's own, down, free.
export function StateBar(props: { s: States }) {
  const { s } = props;
  const pct = (x: number) => (s.total > 0 ? (100 * x) / s.total : 0);
  return (
    <div class="bar" title={`${num(s.allocated, 3)} / ${num(s.total, 3)}`}>
      <span class="seg allocated" style={{ width: `${pct(s.allocated)}%` }} />
      <span class="seg external" style={{ width: `${pct(s.external)}%` }} />
      <span class="seg down" style={{ width: `${pct(s.down)}%` }} />
    </div>
  );
}

// used against guaranteed and max: the bar's scale is max (or the larger of the other two).
export function QuotaBar(props: { used: number; guaranteed: number; max: number | null; pool?: number }) {
  // With no max the scale is the pool's devices of the type (when known): use without a limit
  // is not a full bar.
  const top = Math.max(props.max ?? props.pool ?? 0, props.guaranteed, props.used, 1);
  return (
    <div class="bar quota">
      <span class="seg allocated" style={{ width: `${(100 * Math.min(props.used, top)) / top}%` }} />
      <span class="mark" style={{ left: `${(100 * props.guaranteed) / top}%` }} title={t("Guaranteed")} />
    </div>
  );
}

export function Badge(props: { value: string }) {
  return <span class={`badge b-${props.value.replace(/[^a-z_]/g, "")}`}>{t(props.value)}</span>;
}

export function Failure(props: { error?: ApiError }) {
  if (!props.error) return null;
  return (
    <div class="error" role="alert">
      {props.error.status === 404 ? t("Not found") : `HTTP ${props.error.status}`}: {props.error.message}
    </div>
  );
}

export function Section(props: { title: string; children: ComponentChildren; id?: string; right?: ComponentChildren }) {
  return (
    <section id={props.id}>
      <h2>
        {props.title}
        {props.right && <span class="h-right">{props.right}</span>}
      </h2>
      {props.children}
    </section>
  );
}

// A labelled filter: one of `options` (value, label), the first "" meaning all.
export function Choice(props: {
  label: string;
  name: string;
  value: string;
  options: (string | [string, string])[];
  onChange: (value: string) => void;
}) {
  return (
    <label>
      {props.label}{" "}
      <select value={props.value} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)} name={props.name}>
        <option value="">{t("All")}</option>
        {props.options.map((o) => {
          const [value, label] = typeof o === "string" ? [o, o] : o;
          return <option value={value}>{label}</option>;
        })}
      </select>
    </label>
  );
}
