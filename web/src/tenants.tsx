// Tenants (admin) or my tenant: quotas and use per device type as bars (guaranteed marked,
// scaled to max), weights, projects, and the account's balance and vouchers.
import { usePoll, type Overview, type Quota, type Tenant, type Utilization } from "./api";
import { TimeChart } from "./chart";
import { t } from "./i18n";
import { Failure, QuotaBar, Section } from "./ui";

function devices(s: string | null): number | null {
  return s == null ? null : Number(s);
}

// The pool's devices of each type: the scale of a quota bar with no max.
type PoolSize = Record<string, number>;

function Quotas(props: { quotas: Quota[]; pool: PoolSize }) {
  if (props.quotas.length === 0) return <div class="muted">—</div>;
  return (
    <table class="quotas">
      <thead>
        <tr>
          <th>{t("Type")}</th>
          <th class="r">{t("Used")}</th>
          <th class="r">{t("Guaranteed")}</th>
          <th class="r">{t("Max")}</th>
          <th class="wide" />
        </tr>
      </thead>
      <tbody>
        {props.quotas.map((q) => (
          <tr data-type={q.device_type}>
            <td>{q.device_type}</td>
            <td class="r">{q.used}</td>
            <td class="r">{q.guaranteed}</td>
            <td class="r">{q.max ?? "∞"}</td>
            <td>
              <QuotaBar used={Number(q.used)} guaranteed={Number(q.guaranteed)} max={devices(q.max)} pool={props.pool[q.device_type]} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// All tenants (admin), or one with its use over time: the caller's own, or ?tenant= for an admin.
export function TenantsPage(props: { query: URLSearchParams }) {
  const tenants = usePoll<{ items: Tenant[] }>("/v1/tenants", 5000);
  const overview = usePoll<Overview>("/v1/overview", 60000);
  if (!tenants.data) return <div>{tenants.error ? <Failure error={tenants.error} /> : t("Loading")}</div>;
  const only = props.query.get("tenant");
  const items = tenants.data.items.filter((x) => !only || x.name === only);
  const pool: PoolSize = Object.fromEntries(Object.entries(overview.data?.by_type ?? {}).map(([ty, st]) => [ty, st.total]));
  if (only && items.length === 0) {
    return (
      <div class="error" role="alert" id="no-tenant">
        {t("No tenant of that name is visible to this token:")} {only}
      </div>
    );
  }
  return (
    <div>
      {items.map((tn) => (
        <TenantCard tenant={tn} detail={items.length === 1} pool={pool} />
      ))}
    </div>
  );
}

function TenantUse(props: { tenant: string }) {
  const u = usePoll<Utilization>(`/v1/utilization?hours=24&points=144&tenant=${encodeURIComponent(props.tenant)}`, 15000);
  if (!u.data) return <Failure error={u.error} />;
  const d = u.data;
  return (
    <TimeChart
      id={`tenant-use-${props.tenant}`}
      t={d.t}
      series={[
        ...Object.entries(d.allocated).map(([ty, v]) => ({ label: ty, values: v })),
        { label: t("Jobs waiting (mean)"), values: d.queued, axis: "right" as const },
      ]}
      left={t("Devices")}
      right={t("Jobs waiting (mean)")}
    />
  );
}

// What the tenant's work cost per day over the last 30 days (rated as invoices rate it).
function TenantCost(props: { tenant: string }) {
  const u = usePoll<Utilization>(`/v1/utilization?hours=720&points=30&tenant=${encodeURIComponent(props.tenant)}`, 60000);
  if (!u.data) return <Failure error={u.error} />;
  const d = u.data;
  const total = d.cost_yuan.reduce((a, b) => a + b, 0);
  return (
    <>
      <h3>
        {t("Cost per day, last 30 days")} · ¥{total.toFixed(2)}
      </h3>
      <TimeChart id={`tenant-cost-${props.tenant}`} t={d.t} step series={[{ label: t("yuan per day"), values: d.cost_yuan }]} left="¥" />
    </>
  );
}

function TenantCard(props: { tenant: Tenant; detail: boolean; pool: PoolSize }) {
  const tn = props.tenant;
  const account = usePoll<any>(`/v1/accounts/${encodeURIComponent(tn.name)}`, 15000);
  return (
    <Section
      id={`tenant-${tn.name}`}
      title={`${tn.name}${tn.retired ? ` (${t("retired")})` : ""}`}
      right={
        <span title={t("Fair share: dominant share of the pool (held now plus decayed past use) over the weight; smaller shares are served first")}>
          {`${t("Weight")} ${tn.weight} · ${t("Queued")} ${tn.queued_jobs} · ${t("Running")} ${tn.jobs_holding_devices} · `}
          <span class="fair-share" data-rank={tn.fair_share?.rank}>
            {`${t("Fair share")} ${(100 * (tn.fair_share?.dominant_share ?? 0)).toFixed(1)}% · #${tn.fair_share?.rank ?? "?"}`}
          </span>
        </span>
      }
    >
      <Quotas quotas={tn.quotas} pool={props.pool} />
      {props.detail ? (
        <>
          <h3>{t("Devices held over the last 24 hours")}</h3>
          <TenantUse tenant={tn.name} />
          <TenantCost tenant={tn.name} />
        </>
      ) : (
        <a href={`#/tenants?tenant=${encodeURIComponent(tn.name)}`}>{t("Use over time")} →</a>
      )}
      {account.data && <Account a={account.data} />}
      <Invoices tenant={tn.name} />
      {tn.projects.length > 0 && (
        <>
          <h3>{t("Projects")}</h3>
          {tn.projects.map((p) => (
            <div class="project" data-project={p.name}>
              <h4>
                {tn.name}/{p.name} · {t("Weight")} {p.weight} {p.retired ? `(${t("retired")})` : ""}
              </h4>
              <Quotas quotas={p.quotas} pool={props.pool} />
            </div>
          ))}
        </>
      )}
    </Section>
  );
}

const yuan = (micro: number | null | undefined) => (micro == null ? "—" : `¥${(micro / 1e6).toFixed(2)}`);

// The account (GET /v1/accounts/{tenant}): money first, then compute vouchers (算力券).
function Account(props: { a: any }) {
  const a = props.a;
  return (
    <div class="kv account" data-testid="account">
      <span title={t("Money paid in (top-ups), less what it paid for")}>{t("Balance")}</span>
      <b>{yuan(a.balance_micro)}</b>
      <span title={t("Compute vouchers (算力券) pay for usage before the balance does")}>{t("Vouchers")}</span>
      <b>
        {yuan(a.vouchers_micro)} ({(a.vouchers ?? []).length})
      </b>
      <span title={t("Booked this month: runs that ended, rated at their frozen prices")}>
        {t("Spent")} {a.month}
      </span>
      <b>{yuan(a.spent_micro)}</b>
      <span title={t("Running work this month, not yet booked")}>{t("Accrued")}</span>
      <b>{yuan(a.accrued_micro)}</b>
      <span title={t("The most the tenant may spend in a month; past it new work waits")}>{t("Budget")}</span>
      <b>{a.monthly_budget_micro == null ? "∞" : yuan(a.monthly_budget_micro)}</b>
    </div>
  );
}

function Invoices(props: { tenant: string }) {
  const inv = usePoll<any[]>(`/v1/invoices?tenant=${encodeURIComponent(props.tenant)}`, 60000);
  const items = Array.isArray(inv.data) ? inv.data : [];
  if (items.length === 0) return null;
  return (
    <>
      <h3>{t("Invoices")}</h3>
      <ul class="invoices">
        {items.map((i) => (
          <li>
            {Object.entries(i as Record<string, unknown>)
              .filter(([, v]) => typeof v === "string" || typeof v === "number")
              .slice(0, 5)
              .map(([k, v]) => `${k}: ${v}`)
              .join(" · ")}
          </li>
        ))}
      </ul>
    </>
  );
}
