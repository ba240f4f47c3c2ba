// Nodes: a grid per cluster, grouped by leaf switch, each node a cell coloured by use (whole
// GPUs in use, a shared GPU in use, idle, down); a click shows its devices and jobs. Pages of
// 1,000 nodes from GET /v1/nodes, so 52,400 devices (6,550 nodes) are 7 pages, not one answer.
import { useEffect, useState } from "preact/hooks";
import { usePoll, type NodeItem, type NodePage } from "./api";
import { t } from "./i18n";
import { Badge, Failure, Section } from "./ui";

const PAGE = 1000;

function use(n: NodeItem): "down" | "whole" | "shared" | "idle" {
  if (n.agent === "lost" || n.cordoned) return "down";
  if (n.free_milli.some((f) => f > 0 && f < 1000)) return "shared";
  if (n.free_devices < n.devices) return "whole";
  return "idle";
}

export function NodesPage(props: { query: URLSearchParams }) {
  const [offset, setOffset] = useState(0);
  const [selected, setSelected] = useState(props.query.get("node") ?? "");
  // A link to another node (#/nodes?node=...) while this page is open selects that one.
  const linked = props.query.get("node") ?? "";
  useEffect(() => {
    if (linked) setSelected(linked);
  }, [linked]);
  const page = usePoll<NodePage>(`/v1/nodes?limit=${PAGE}&offset=${offset}`, 5000);
  const p = page.data;
  const clusters = new Map<string, Map<string, NodeItem[]>>();
  for (const n of p?.items ?? []) {
    const key = `${n.provider} / ${n.cluster}`;
    if (!clusters.has(key)) clusters.set(key, new Map());
    const sw = clusters.get(key)!;
    if (!sw.has(n.leaf_switch)) sw.set(n.leaf_switch, []);
    sw.get(n.leaf_switch)!.push(n);
  }
  return (
    <div class="nodes-layout">
      <div>
        <div class="legend">
          {(["whole", "shared", "idle", "down"] as const).map((k) => (
            <span>
              <i class={`cell ${k}`} /> {t(k === "whole" ? "whole GPUs in use" : k === "shared" ? "shared GPU in use" : k)}
            </span>
          ))}
          {p && (
            <span class="pager">
              {offset > 0 && <button onClick={() => setOffset(Math.max(0, offset - PAGE))}>←</button>}
              {offset + 1}–{offset + p.items.length} / {p.total}
              {offset + PAGE < p.total && <button onClick={() => setOffset(offset + PAGE)}>→</button>}
            </span>
          )}
        </div>
        <Failure error={page.error} />
        {[...clusters.entries()].map(([cluster, switches]) => (
          <Section title={cluster}>
            {[...switches.entries()].map(([sw, nodes]) => (
              <div class="switch">
                <div class="switch-name" title={t("Leaf switch")}>
                  {sw}
                </div>
                <div class="grid">
                  {nodes.map((n) => (
                    <button
                      class={`cell ${use(n)} ${selected === n.name ? "sel" : ""}`}
                      title={`${n.name}: ${n.devices - n.free_devices}/${n.devices} ${n.device_type}`}
                      data-node={n.name}
                      onClick={() => setSelected(n.name)}
                    />
                  ))}
                </div>
              </div>
            ))}
          </Section>
        ))}
      </div>
      {selected && <NodeDetail name={selected} />}
    </div>
  );
}

function NodeDetail(props: { name: string }) {
  const node = usePoll<NodeItem>(`/v1/nodes/${encodeURIComponent(props.name)}`, 3000);
  const n = node.data;
  return (
    <aside class="detail" id="node-detail">
      <h3>{props.name}</h3>
      <Failure error={node.error} />
      {n && (
        <>
          <div class="kv">
            <span>{t("Type")}</span>
            <b>
              {n.devices} × {n.device_type}
            </b>
            <span>{t("Agent")}</span>
            <b>
              <Badge value={n.agent} />
            </b>
            <span>{t("Leaf switch")}</span>
            <b>{n.leaf_switch}</b>
            <span>{t("NVLink domain")}</span>
            <b>
              {n.domain_size} {t("devices")}
            </b>
            <span>{t("CPU cores / memory GiB")}</span>
            <b>
              {n.cpu} / {n.memory_gib}
            </b>
          </div>
          <h4>{t("Device use")}</h4>
          <div class="devices">
            {n.free_milli.map((f, i) => (
              <div class="device" title={`${t("Device")} ${i}: ${t("free")} ${f / 10}%`}>
                <span style={{ height: `${100 - f / 10}%` }} />
                <small>{i}</small>
              </div>
            ))}
          </div>
          <h4>{t("Jobs_on_node")}</h4>
          <ul>
            {(n.jobs ?? []).map((j) => (
              <li>
                <a href={`#/jobs/${j.id}`}>{j.id}</a> · {j.devices}
              </li>
            ))}
            {(n.other_jobs ?? 0) > 0 && (
              <li class="muted">
                {n.other_jobs} {t("other tenants' jobs")}
              </li>
            )}
            {(n.jobs ?? []).length === 0 && !n.other_jobs && <li class="muted">{t("no jobs")}</li>}
          </ul>
        </>
      )}
    </aside>
  );
}
