// The dashboard in a real browser: Debian's headless Chromium driven by playwright-core, against
// the real `suanpan dev` (server, SQLite store and a local agent with declared H100s), with jobs
// submitted by the real CLI. One browser and one server for the whole file.
//
//   node --test tests/web/dashboard.test.mjs   (SUANPAN=path/to/suanpan; ARTEFACTS=dir)
//
// Each page's screenshot is saved under $ARTEFACTS (docs/img has the README's copies). Every
// test fails on a console error, an uncaught page error or a failed request.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import net from "node:net";

const require = createRequire(new URL("../../web/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const SUANPAN = process.env.SUANPAN ?? path.resolve("build/apps/suanpan/suanpan");
const ARTEFACTS = process.env.ARTEFACTS ?? path.resolve("build/web-artefacts");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

let dir, server, url, admin, tenant, other, browser, idp;
const problems = []; // console errors, page errors, failed requests: none is allowed

async function api(method, p, token, body) {
  const r = await fetch(url + p, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${p}: HTTP ${r.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

function cli(token, ...args) {
  return execFileSync(SUANPAN, args, {
    env: { ...process.env, SUANPAN_SERVER: url, SUANPAN_TOKEN: token },
    encoding: "utf8",
  });
}

async function until(what, fn, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function page(token) {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const p = await ctx.newPage();
  p.on("console", (m) => m.type() === "error" && !p.expectErrors && problems.push(`console: ${m.text()}`));
  p.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  p.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  p.on("response", (r) => r.status() >= 400 && !p.expectErrors && problems.push(`HTTP ${r.status()}: ${r.url()}`));
  // The test identity provider's login page asks for a web font; there is no network here.
  await ctx.route(/fonts\.googleapis\.com|fonts\.gstatic\.com/, (r) => r.fulfill({ status: 200, contentType: "text/css", body: "" }));
  await p.goto(url + "/");
  if (token) {
    await p.fill("input[name=token]", token);
    await p.click("button[type=submit]");
    await p.waitForSelector("#who");
  }
  return p;
}

async function shot(p, name) {
  fs.mkdirSync(ARTEFACTS, { recursive: true });
  const file = path.join(ARTEFACTS, `${name}.png`);
  await p.screenshot({ path: file, fullPage: true });
  // Layout sanity: a page that rendered something, not a blank or collapsed one.
  const size = fs.statSync(file).size;
  assert.ok(size > 15000, `${name}.png is ${size} bytes: a blank page?`);
  const main = await p.evaluate(() => document.querySelector("main")?.getBoundingClientRect().height ?? 0);
  assert.ok(main > 150, `${name}: <main> is ${main}px high`);
}

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const port = s.address().port;
  await new Promise((r) => s.close(r));
  return port;
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "suanpan-web-"));
  fs.chmodSync(dir, 0o711); // workers run as other uids and pass through it to their work dirs
  // A real OpenID Connect provider (tests/oidc/idp.mjs) with the dashboard's public client,
  // whose redirect URI is the dashboard's URL: so the port is chosen first.
  const port = await freePort();
  const idpOut = path.join(dir, "idp.json");
  idp = spawn("node", [path.resolve("tests/oidc/idp.mjs"), idpOut, `http://127.0.0.1:${port}/`], {
    stdio: ["ignore", fs.openSync(path.join(dir, "idp.log"), "w"), fs.openSync(path.join(dir, "idp.log"), "a")],
  });
  await until("the identity provider", () => fs.existsSync(idpOut), 30000);
  await new Promise((r) => setTimeout(r, 50)); // written whole
  const issuer = JSON.parse(fs.readFileSync(idpOut, "utf8")).issuer;
  server = spawn(
    SUANPAN,
    ["dev", "--data-dir", dir, "--listen", `127.0.0.1:${port}`, "--devices", "H100:8", "--nodes", "2",
      "--oidc-issuer", issuer, "--oidc-audience", "suanpan", "--oidc-client-id", "dashboard", "--oidc-scope", "openid api"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  server.stdout.on("data", (d) => (out += d));
  server.stderr.on("data", (d) => (out += d));
  server.on("exit", (code) => code !== null && code !== 0 && problems.push(`suanpan dev exited ${code}: ${out.slice(-2000)}`));
  process.on("exit", () => process.env.KEEP_LOG && fs.writeFileSync(process.env.KEEP_LOG, out));
  await until("suanpan dev to print its URL", () => /tenant token/.test(out), 30000);
  url = out.match(/dashboard:\s+(http:\/\/[0-9.:]+)\//)[1];
  admin = fs.readFileSync(path.join(dir, "admin.token"), "utf8").trim();
  tenant = fs.readFileSync(path.join(dir, "tenant.token"), "utf8").trim();
  // A second company, whose work the first must never see.
  await api("POST", "/v1/tenants", admin, { name: "other" });
  other = (await api("POST", "/v1/tokens", admin, { name: "other-member", role: "tenant", tenant: "other" })).token;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
  await new Promise((r) => (server ? server.on("exit", r) : r()));
  idp?.kill("SIGKILL");
  fs.rmSync(dir, { recursive: true, force: true });
});

test("a bad token is refused at sign-in with the server's message", async () => {
  const p = await page(null);
  p.expectErrors = true; // the 401 is the point
  await p.fill("input[name=token]", "sp_not_a_token");
  await p.click("button[type=submit]");
  const msg = await p.textContent("[role=alert]");
  assert.match(msg, /token/i);
  await shot_signin(p);
  await p.context().close();
});

// Sign-in through the identity provider as a person: the provider's login page, its consent,
// back to the dashboard with a code it trades (PKCE) for an access token the server verifies.
async function signInAs(person) {
  const p = await page(null);
  await p.click("button[name=oidc]");
  await p.waitForSelector("input[name=login]");
  await p.fill("input[name=login]", person);
  await p.fill("input[name=password]", "any");
  await p.click("button[type=submit]");
  await p.waitForSelector("button[type=submit]:has-text('Continue')");
  await p.click("button[type=submit]:has-text('Continue')");
  await p.waitForSelector("#who");
  return p;
}

test("people sign in through the OpenID Connect provider (authorization code with PKCE)", async () => {
  const cfg = await (await fetch(url + "/v1/auth/config")).json();
  assert.equal(cfg.oidc.client_id, "dashboard");
  assert.match(cfg.oidc.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
  // The operator: an admin from the provider's claims, on the overview with no code left in the URL.
  const ops = await signInAs("ops");
  assert.match(await ops.textContent("#who"), /ops · admin/);
  assert.equal(new URL(ops.url()).search, "");
  const bearer = await ops.evaluate(() => localStorage.getItem("suanpan.token"));
  assert.equal(bearer.split(".").length, 3, "the bearer is the provider's JWT access token");
  assert.equal((await api("GET", "/v1/whoami", bearer)).role, "admin");
  await ops.waitForSelector("[data-testid=devices-total]");
  await ops.context().close();
  // A tenant's admin: their tenant only, as with a token.
  await api("POST", "/v1/tenants", admin, { name: "lumen-ai" });
  const boss = await signInAs("boss");
  assert.match(await boss.textContent("#who"), /lumen-ai/);
  await boss.goto(url + "/#/tenants");
  await boss.waitForSelector("section[id^=tenant-]");
  assert.deepEqual(await boss.$$eval("section[id^=tenant-]", (s) => s.map((x) => x.id)), ["tenant-lumen-ai"]);
  await boss.context().close();
  // A person whose claims name no tenant the hub has: refused, with the server's reason.
  const p = await page(null);
  p.expectErrors = true;
  await p.click("button[name=oidc]");
  await p.fill("input[name=login]", "stranger");
  await p.fill("input[name=password]", "any");
  await p.click("button[type=submit]");
  await p.click("button[type=submit]:has-text('Continue')");
  await p.waitForSelector("[role=alert]");
  assert.match(await p.textContent("[role=alert]"), /no-such-tenant/);
  await p.context().close();
});

async function shot_signin(p) {
  fs.mkdirSync(ARTEFACTS, { recursive: true });
  await p.screenshot({ path: path.join(ARTEFACTS, "signin.png") });
}

test("the overview's numbers are the API's, and the utilization chart draws", async () => {
  const p = await page(admin);
  const ov = await api("GET", "/v1/overview", admin);
  const text = async (id) => (await p.textContent(`[data-testid=${id}]`)).replace(/,/g, "");
  assert.equal(Number(await text("devices-total")), ov.devices.total);
  assert.equal(ov.devices.total, 16); // 2 nodes of 8 declared H100
  assert.equal(Number(await text("devices-allocated")), ov.devices.allocated);
  assert.equal(Number(await text("devices-free")), ov.devices.free);
  assert.equal(Number(await text("devices-down")), ov.devices.down);
  assert.equal(Number(await text("pflops")), Math.round(ov.devices.pflops * 10) / 10);
  assert.equal(Number(await text("jobs-queued")), ov.jobs.queued);
  const providers = await p.$$eval("#providers tbody tr", (rows) => rows.map((r) => r.dataset.provider));
  assert.deepEqual(providers, ov.providers.map((x) => x.name));
  // The chart: a canvas with drawn (non-background) pixels.
  await p.waitForSelector("#utilization-chart canvas");
  const inked = await p.$eval("#utilization-chart canvas", (c) => {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  });
  assert.ok(inked > 500, `the chart drew ${inked} pixels`);
  // Polling is cheap: an unchanged answer is an empty 304 for the ETag the page already has.
  const first = await fetch(url + "/v1/overview", { headers: { Authorization: `Bearer ${admin}` } });
  const etag = first.headers.get("etag");
  assert.ok(etag, "the overview has an ETag");
  const second = await fetch(url + "/v1/overview", { headers: { Authorization: `Bearer ${admin}`, "If-None-Match": etag } });
  assert.equal(second.status, 304);
  assert.equal(await second.text(), "");
  await shot(p, "overview");
  await p.context().close();
});

test("a job submitted with the CLI appears on the queue page and finishes there", async () => {
  const p = await page(tenant);
  await p.goto(url + "/#/queue");
  const submitted = cli(tenant, "submit", "-J", "web-e2e", "-N", "2", "-G", "4", "--", "sh", "-c", "echo hello-from-$RANK; sleep 6");
  const id = Number(submitted.match(/job (\d+)/)[1]);
  await p.waitForSelector(`#jobs-table tr[data-job="${id}"]`, { timeout: 15000 });
  await p.waitForSelector(`#jobs-table tr[data-job="${id}"][data-state="running"]`, { timeout: 20000 });
  // While it runs, the overview counts its devices as the API does.
  const ov = await api("GET", "/v1/overview", admin);
  assert.equal(ov.devices.allocated, 8);
  await p.click(`#jobs-table tr[data-job="${id}"] a`);
  await p.waitForSelector("#placement tbody tr");
  assert.equal(await p.$$eval("#placement tbody tr", (r) => r.length), 2);
  await until("the log tail", async () => /hello-from-0/.test(await p.textContent("#log")));
  await p.goto(url + "/#/queue");
  await p.waitForSelector(`#jobs-table tr[data-job="${id}"][data-state="succeeded"]`, { timeout: 30000 });
  await shot(p, "queue");
  await p.goto(url + `/#/jobs/${id}`);
  await p.waitForSelector("#events .timeline li");
  await until("the events to end", async () => /succeeded/.test(await p.textContent("#events")));
  await until("the log", async () => /hello-from-0/.test(await p.textContent("#log")));
  assert.match(await p.textContent("#job-cost"), /¥\d+\.\d\d/);
  await shot(p, "job");
  await p.context().close();
});

test("a tenant's token cannot reach another tenant's jobs, tenants or nodes' jobs", async () => {
  const theirs = Number(cli(other, "submit", "-J", "secret-run", "-G", "8", "--", "sleep", "30").match(/job (\d+)/)[1]);
  let last;
  await until("their job to run", async () => {
    last = await api("GET", `/v1/jobs/${theirs}`, other);
    return last.state === "running";
  }).catch((e) => assert.fail(`${e.message}: ${last.state}: ${last.reason}`));
  // A job of ours that cannot start while theirs holds a node: it waits, and says why.
  const waits = Number(cli(tenant, "submit", "-J", "needs-both-nodes", "-N", "2", "-G", "8", "--", "true").match(/job (\d+)/)[1]);
  const p = await page(tenant);
  await p.goto(url + "/#/queue");
  await p.waitForSelector(`#waiting tr[data-job="${waits}"]`);
  assert.match(await p.textContent(`#waiting tr[data-job="${waits}"] .reason`), /waiting for capacity/);
  await p.waitForSelector("#jobs-table tbody tr");
  assert.ok(!(await p.textContent("#jobs-table")).includes("secret-run"));
  assert.ok(!(await p.textContent("#waiting")).includes("secret-run"));
  await shot(p, "queue-waiting");
  // Its page says why it waits as `suanpan explain` does (a what-if round), and where it stands.
  await p.goto(url + `/#/jobs/${waits}`);
  await p.waitForSelector("#job-position");
  assert.match(await p.textContent("#job-reason"), /waiting for capacity/);
  const explained = await api("GET", `/v1/jobs/${waits}/explain`, tenant);
  assert.equal(Number(await p.textContent("#job-position")), explained.position);
  assert.match(await p.textContent("#job-command"), /^true$/);
  // Cancelled from its page (confirmed in the dialog): the API says so.
  p.once("dialog", (d) => d.accept());
  await p.click("#cancel");
  await until("the cancel", async () => (await api("GET", `/v1/jobs/${waits}`, tenant)).state === "cancelled");
  await p.waitForSelector(".badge.b-cancelled");
  // Another tenant asked for by name: said plainly, not a blank page.
  await p.goto(url + "/#/tenants?tenant=other");
  await p.waitForSelector("#no-tenant");
  await p.goto(url + "/#/tenants");
  await p.waitForSelector("section[id^=tenant-]");
  assert.deepEqual(await p.$$eval("section[id^=tenant-]", (s) => s.map((x) => x.id)), ["tenant-dev"]);
  // The job page of theirs: the API's 404, shown as such (the same check as for the CLI).
  p.expectErrors = true;
  await p.goto(url + `/#/jobs/${theirs}`);
  await p.waitForSelector("[role=alert]");
  assert.match(await p.textContent("[role=alert]"), /not found/i);
  p.expectErrors = false;
  // Their node: counted, not named.
  const node = (await api("GET", `/v1/jobs/${theirs}`, other)).placement.workers[0].node;
  await p.goto(url + `/#/nodes?node=${encodeURIComponent(node)}`);
  await p.waitForSelector("#node-detail li");
  const detail = await p.textContent("#node-detail");
  assert.ok(!detail.includes(String(theirs)) || /other tenants/.test(detail));
  assert.match(detail, /1 other tenants' jobs/);
  await shot(p, "nodes");
  await p.goto(url + "/#/tenants");
  await p.waitForSelector("#tenant-dev");
  await p.waitForSelector("#tenant-use-dev canvas"); // its own use over time: one tenant shown
  await p.waitForSelector("#tenant-cost-dev canvas"); // and its cost per day
  const mine = (await api("GET", "/v1/tenants", tenant)).items[0];
  assert.equal(Number(await p.getAttribute("#tenant-dev .fair-share", "data-rank")), mine.fair_share.rank);
  await shot(p, "tenants");
  // The admin sees both, and the overview in Chinese.
  const a = await page(admin);
  await a.goto(url + "/#/tenants");
  await a.waitForSelector("#tenant-other");
  await a.goto(url + "/#/");
  await a.selectOption("#lang", "zh-CN");
  await a.waitForSelector("text=总览");
  await a.waitForSelector("#utilization-chart canvas");
  await shot(a, "overview-zh");
  cli(other, "cancel", String(theirs));
  await p.context().close();
  await a.context().close();
});

test("a suanpan sim report opens in the same UI with its policies side by side", async () => {
  const out = path.join(dir, "sim");
  cli(admin, "sim", "--trace", "tiresias:../shared/traces/tiresias/60_job.csv", "--cluster", "1x4x4",
    "--policy", "fifo/first_fit,las/best_fit,srtf/best_fit", "--no-backfill", "--out", out);
  const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
  const p = await page(admin);
  await p.goto(url + "/#/report");
  await p.setInputFiles("input[name=report-files]", ["report.json", "jobs.csv", "timeline.json"].map((f) => path.join(out, f)));
  await p.waitForSelector("#report-policies tbody tr");
  const rows = await p.$$eval("#report-policies tbody tr", (r) => r.map((x) => [x.dataset.policy, x.children[2].textContent]));
  assert.deepEqual(rows.map((r) => r[0]), report.policies.map((x) => x.policy));
  assert.deepEqual(rows.map((r) => Number(r[1].replace(/,/g, ""))), report.policies.map((x) => Math.round(x.jct_seconds.mean * 100) / 100));
  for (const id of ["cdf-chart", "util-chart", "queue-chart"]) {
    await p.waitForSelector(`#${id} canvas`);
    const legend = await p.$$eval(`#${id} .u-legend .u-series`, (s) => s.length);
    assert.equal(legend, 1 + report.policies.length, `${id}: one series per policy`);
  }
  // A file that is not a report says so, naming the file.
  fs.writeFileSync(path.join(out, "notes.txt"), "hello");
  await p.setInputFiles("input[name=report-files]", [path.join(out, "notes.txt")]);
  assert.match(await p.textContent("[role=alert]"), /notes\.txt: not a report\.json/);
  await p.setInputFiles("input[name=report-files]", [path.join(out, "report.json")]);
  await shot(p, "report");
  await p.context().close();
});

test("no console errors, page errors or failed requests", () => {
  assert.deepEqual(problems, []);
});
