#!/usr/bin/env python3
"""Delegated jobs through a real Slurm: submit-to-running latency and sustained throughput.

    python3 bench/slurm_latency.py [--jobs 100] [--latency-jobs 30] [--mode rest|cli]

Starts the test Slurm of tests/testdata/slurm (2 nodes x 2 fake H100) and a `suanpan server`
whose one provider is delegated to it (poll_seconds = 1), then
  1. latency: submits one 1-GPU job at a time and waits for it to run; submit-to-running is the
     time from suanpan's "submitted" event to its "running" event (p50/p99 over the jobs);
  2. throughput: submits --jobs 1-GPU jobs at once (`true`) and times until all succeeded.
Prints the figures as a Markdown table for docs/benchmarks.md. Needs the build (make build)."""
import argparse, json, os, subprocess, sys, tempfile, time, urllib.request, statistics, signal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "tests/testdata/slurm/slurm-cluster.sh")
SUANPAN = os.path.join(ROOT, "build/apps/suanpan/suanpan")


def call(url, token, method="GET", body=None):
    req = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def ms(t):  # RFC 3339 with ms -> epoch ms
    import datetime
    return int(datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=100)
    ap.add_argument("--latency-jobs", type=int, default=30)
    ap.add_argument("--mode", default="rest")
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="suanpan_slurm_bench_")
    os.chmod(d, 0o755)  # slurmrestd runs as another user and reads the config under it
    os.environ["SP_SLURM_PORT_BASE"] = os.environ.get("SP_SLURM_PORT_BASE", "18817")
    subprocess.run([SCRIPT, "start", d + "/c"], check=True, stdout=subprocess.DEVNULL)
    env = dict(l.strip().split("=", 1) for l in open(d + "/c/env") if "=" in l)
    os.environ["SLURM_CONF"] = env["SLURM_CONF"]
    open(d + "/token", "w").write(env["SLURM_JWT_TOKEN"] + "\n")
    pool = open(os.path.join(ROOT, "tests/slurm/bench-pool.toml.in")).read()
    pool = pool.replace("@MODE@", a.mode).replace("@URL@", env["SLURMRESTD_URL"]) \
               .replace("@TOKEN@", d + "/token").replace("@OUT@", d + "/out")
    open(d + "/pool.toml", "w").write(pool)
    server = subprocess.Popen([SUANPAN, "server", "--listen", "127.0.0.1:0", "--store", d + "/s.db",
                               "--pool", d + "/pool.toml", "--admin-token-file", d + "/admin.token",
                               "--port-file", d + "/port", "--log-level", "warn"],
                              stdout=open(d + "/server.log", "w"), stderr=subprocess.STDOUT)
    try:
        for _ in range(500):
            if os.path.exists(d + "/port") and open(d + "/port").read().strip():
                break
            time.sleep(0.02)
        base = "http://127.0.0.1:" + open(d + "/port").read().strip()
        token = open(d + "/admin.token").read().strip()
        job = lambda n: {"name": n, "tenant": "t1", "workers": 1, "devices_per_worker": 1,
                         "device_types": ["H100"], "command": ["true"]}
        lat = []
        for i in range(a.latency_jobs):
            jid = call(base + "/v1/jobs", token, "POST", job(f"lat{i}"))["id"]
            while call(f"{base}/v1/jobs/{jid}", token)["state"] not in ("succeeded", "failed"):
                time.sleep(0.05)
            ev = call(f"{base}/v1/jobs/{jid}/events", token)["items"]
            t0 = ms(ev[0]["time"])
            run = [e for e in ev if e["kind"] == "running"]
            if run:
                lat.append((ms(run[0]["time"]) - t0) / 1000)
            print(f"\rlatency {i + 1}/{a.latency_jobs}", end="", file=sys.stderr)
        print(file=sys.stderr)
        t = time.time()
        ids = [call(base + "/v1/jobs", token, "POST", job(f"tp{i}"))["id"] for i in range(a.jobs)]
        left = set(ids)
        while left:
            page = call(f"{base}/v1/jobs?state=succeeded,failed&limit=1000", token)["items"]
            left -= {j["id"] for j in page}
            print(f"\rthroughput {a.jobs - len(left)}/{a.jobs}", end="", file=sys.stderr)
            time.sleep(0.2)
        print(file=sys.stderr)
        secs = time.time() - t
        lat.sort()
        p99 = lat[min(len(lat) - 1, int(round(0.99 * (len(lat) - 1))))]
        print(f"| mode | latency jobs | submit-to-running p50 | p99 | throughput jobs | wall | jobs/s |")
        print(f"|---|---|---|---|---|---|---|")
        print(f"| {a.mode} | {len(lat)} | {statistics.median(lat):.2f} s | {p99:.2f} s | {a.jobs} | {secs:.1f} s | {a.jobs / secs:.2f} |")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()
        subprocess.run(["scancel", "--full", "--quiet", "-u", "root"], stderr=subprocess.DEVNULL)
        subprocess.run([SCRIPT, "stop", d + "/c"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
