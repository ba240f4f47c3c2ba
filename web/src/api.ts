// The API as the dashboard calls it: the token from sign-in as a bearer, the same routes and
// checks as the CLI. Polling revalidates with the server's ETags (fetch's "no-cache" mode sends
// If-None-Match; an unchanged answer is an empty 304).
import { useEffect, useState } from "preact/hooks";

const TOKEN_KEY = "suanpan.token";

export function token(): string {
  return localStorage.getItem(TOKEN_KEY) ?? "";
}
export function setToken(t: string) {
  if (t) localStorage.setItem(TOKEN_KEY, t);
  else localStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    public field?: string,
  ) {
    super(message);
  }
}

export async function get<T>(path: string, tok = token()): Promise<T> {
  return call<T>("GET", path, tok);
}

// The one write the dashboard makes (cancel); submitting stays the CLI's.
export async function post<T>(path: string, tok = token()): Promise<T> {
  return call<T>("POST", path, tok);
}

async function call<T>(method: string, path: string, tok: string): Promise<T> {
  const r = await fetch(path, {
    method,
    headers: tok ? { Authorization: `Bearer ${tok}` } : {},
    cache: "no-cache",
  });
  const text = await r.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!r.ok) {
    const e = body?.error;
    throw new ApiError(r.status, e?.message ?? `HTTP ${r.status}`, e?.field ?? undefined);
  }
  return body as T;
}

export type Poll<T> = { data?: T; error?: ApiError; loading: boolean };

// GET `path` now and every `ms` after (paused while the tab is hidden); null path: nothing.
export function usePoll<T>(path: string | null, ms = 3000): Poll<T> {
  const [state, setState] = useState<Poll<T>>({ loading: true });
  useEffect(() => {
    if (!path) return;
    let stop = false;
    let timer: number | undefined;
    setState({ loading: true });
    const tick = async () => {
      if (document.visibilityState !== "hidden") {
        try {
          const data = await get<T>(path);
          if (!stop) setState({ data, loading: false });
        } catch (e) {
          if (!stop) {
            const err = e instanceof ApiError ? e : new ApiError(0, String(e));
            if (err.status === 401) window.dispatchEvent(new Event("suanpan:signed-out"));
            // Not there or not ours: asking again will not change that.
            if (err.status === 404 || err.status === 403) stop = true;
            setState((s) => ({ data: s.data, error: err, loading: false }));
          }
        }
      }
      if (!stop) timer = window.setTimeout(tick, ms);
    };
    tick();
    return () => {
      stop = true;
      window.clearTimeout(timer);
    };
  }, [path, ms]);
  return state;
}

// The shapes this dashboard reads (src/api/openapi.json has them all).
export type Whoami = { token: string; role: string; scope: string };
export type States = {
  total: number;
  allocated: number;
  external: number;
  down: number;
  free: number;
  pflops: number;
  pflops_allocated: number;
};
export type Overview = {
  time: string;
  devices: States;
  providers: {
    name: string;
    region: string;
    backend: string;
    state: string;
    message: string;
    nodes: number;
    nodes_down: number;
    devices: States;
    by_type: Record<string, States>;
  }[];
  by_region: Record<string, States>;
  by_type: Record<string, States>;
  jobs: { queued: number; running: number };
  tenants: {
    tenant: string;
    queued: number;
    running: number;
    oldest_wait_seconds: number;
    mean_wait_seconds: number;
    waiting_for_funds: number;
  }[];
  alerts: { severity: string; kind: string; message: string; subject: string }[];
};
export type Utilization = {
  from: string;
  to: string;
  step_seconds: number;
  devices: number;
  t: number[];
  allocated: Record<string, number[]>;
  queued: number[];
  cost_yuan: number[];
};
export type Worker = { node: string; devices: number[]; share: number; cpu: number; memory: number };
export type Run = {
  attempt: number;
  provider: string;
  cluster: string;
  device_type: string;
  started: string;
  ended: string | null;
  workers: Worker[];
};
export type Job = {
  id: number;
  name: string;
  tenant: string;
  user: string;
  project: string | null;
  state: string;
  reason: string;
  submitted: string;
  updated: string;
  attempts: number;
  devices: string;
  spec: any;
  exit_code?: number | null;
  earliest_start?: string | null;
  placement?: Run | null;
  cost_yuan: string;
};
export type JobPage = { items: Job[]; next_after: number | null; next_before?: number };
export type Explain = {
  id: number;
  state: string;
  pending: boolean;
  reason: string;
  queued_since?: string | null;
  earliest_start?: string | null;
  outcome?: string;
  position?: number;
};
export type QueueEntry = {
  position: number;
  id: number;
  name: string;
  tenant: string;
  devices: string;
  state: string;
  reason: string;
  earliest_start?: string | null;
};
export type Queue = { policy: string; length: number; items: QueueEntry[] };
export type EventItem = { seq: number; time: string; kind: string; message: string };
export type LogChunk = { data: string; offset: number; next_offset: number; done: boolean };
export type NodeItem = {
  name: string;
  provider: string;
  cluster: string;
  group: string;
  device_type: string;
  devices: number;
  free_devices: number;
  domain_size: number;
  leaf_switch: string;
  block: string;
  cpu: number;
  memory_gib: number;
  agent: string;
  agent_address?: string;
  free_milli: number[];
  cordoned: boolean;
  external_devices: number;
  jobs?: { id: number; devices: string }[];
  other_jobs?: number;
};
export type NodePage = { total: number; offset: number; items: NodeItem[] };
export type Quota = { device_type: string; guaranteed: string; used: string; max: string | null };
export type Tenant = {
  name: string;
  weight: number;
  retired: boolean;
  quotas: Quota[];
  queued_jobs: number;
  jobs_holding_devices: number;
  projects: { name: string; weight: number; quotas: Quota[]; queued_jobs: number; retired: boolean }[];
  fair_share?: { dominant_share: number; rank: number };
};
export type Provider = {
  name: string;
  region: string;
  backend: string;
  price_yuan_per_device_hour: Record<string, string>;
};
