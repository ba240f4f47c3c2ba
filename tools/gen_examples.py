#!/usr/bin/env python3
"""Generates the example pool and job files, deterministically (fixed seed, stdlib only).

    python3 tools/gen_examples.py            # writes the files below, prints the totals
    python3 tools/gen_examples.py --check    # regenerates in memory, fails if a file differs

Writes, relative to the repository root:
  examples/pool.toml          seed-scale pool: 9 compute partners, ~52,000 accelerators, ~30 EFLOPS,
                              100 tenants
  examples/jobs.csv           ~3,000 jobs submitted over one hour; demand exceeds the pool
  examples/small-pool.toml    a small, commented pool for the README's quick look
  examples/small-jobs.csv     15 jobs for the small pool
  fuzz/seeds/pool/small.toml  copy of small-pool.toml (fuzzer seed)
  fuzz/seeds/jobs/small.csv   copy of small-jobs.csv (fuzzer seed)

Every file is checked before it is written: the TOML parses (tomllib) to exactly the data it was
made from and uses only the reader's keys; every job names an existing tenant, a class that tenant
may use, known device types; a worker fits a node of some acceptable type, a gang fits the largest
cluster of that type and the tenant's max quota; guaranteed quotas sum to less than the pool.
"""

import argparse
import math
import os
import random
import sys

try:
    import tomllib  # Python 3.11+
except ImportError:  # pragma: no cover
    tomllib = None

SEED = 20250530
NUM_TENANTS = 100
NUM_JOBS = 3000
SUBMIT_WINDOW_S = 3600

# Built-in catalogue (src/core/device_type.cc): peak dense FP16/BF16 in integer GFLOPS, and the
# type's interconnect domain in devices.
GFLOPS = {
    "H100": 989_400, "H800": 989_400, "H20": 148_000, "A100": 312_000, "A800": 312_000,
    "L40S": 362_050, "RTX4090": 165_200, "Ascend910B": 313_000, "MLU370": 96_000,
}
TYPE_DOMAIN = {
    "H100": 8, "H800": 8, "H20": 8, "A100": 8, "A800": 8,
    "L40S": 1, "RTX4090": 1, "Ascend910B": 8, "MLU370": 4,
}
TYPES = list(GFLOPS)  # catalogue order

# Node shape per type in the seed pool: devices per node, interconnect_domain written to the file
# (None: left to the default), CPU cores and memory GiB per node.
NODE_SHAPE = {
    "H100": (8, None, 192, 2048),
    "H800": (8, None, 192, 2048),
    "H20": (8, None, 192, 2048),
    "A100": (8, None, 128, 1024),
    "A800": (8, None, 128, 1024),
    "L40S": (8, 1, 128, 1024),
    "RTX4090": (8, 1, 96, 512),
    "Ascend910B": (8, None, 192, 1536),
    "MLU370": (8, 4, 128, 1024),
}

# Yuan per device-hour: a typical list price and the range any provider's price stays in.
BASE_PRICE = {
    "H100": 15.0, "H800": 14.5, "H20": 5.0, "A100": 7.5, "A800": 7.0,
    "L40S": 4.0, "RTX4090": 2.0, "Ascend910B": 7.0, "MLU370": 2.0,
}
PRICE_RANGE = {
    "H100": (12.0, 18.0), "H800": (12.0, 17.0), "H20": (4.5, 5.6), "A100": (6.0, 9.0),
    "A800": (6.0, 8.5), "L40S": (3.5, 4.6), "RTX4090": (1.7, 2.4), "Ascend910B": (6.0, 8.0),
    "MLU370": (1.7, 2.4),
}

PRIORITY_CLASSES = [("low", 0, True), ("normal", 100, True), ("high", 1000, False)]
CLASS_PREEMPTIBLE = {name: p for name, _, p in PRIORITY_CLASSES}

POLICY = [
    ("queue", "fair_share"),
    ("placement", "topology_pack"),
    ("preemption", True),
    ("backfill", True),
    ("fair_share_half_life_hours", 168),
    ("las_thresholds_device_seconds", [3250, 7200, 18000]),
]

# The 9 compute partners: (name, region, backend, price factor, clusters). A cluster is
# (name, nodes_per_switch, switches_per_block, [(node group name, device type, nodes)]).
PROVIDERS = [
    ("lingang-ai", "cn-shanghai", "managed", 1.08, [
        ("lg-a", 32, 8, [("h100-sxm", "H100", 800)]),
        ("lg-b", 32, 8, [("h100-sxm", "H100", 400), ("l40s-pcie", "L40S", 120)]),
    ]),
    ("pudong-dc", "cn-shanghai", "managed", 1.00, [
        ("pd-a", 32, 8, [("h800-sxm", "H800", 500), ("a800-sxm", "A800", 200)]),
    ]),
    ("zhangjiang-hpc", "cn-shanghai", "delegated", 0.88, [
        ("zj-slurm", 32, 8, [("a100-sxm", "A100", 300), ("rtx4090-pcie", "RTX4090", 150)]),
    ]),
    ("minhang-campus", "cn-shanghai", "delegated", 0.92, [
        ("mh-slurm", 32, 4, [("h800-sxm", "H800", 200), ("a100-sxm", "A100", 100)]),
    ]),
    ("jingjin-cloud", "cn-beijing", "managed", 1.05, [
        ("jj-a", 32, 8, [("h800-sxm", "H800", 550)]),
        ("jj-b", 32, 8, [("h20-sxm", "H20", 300), ("a100-sxm", "A100", 200)]),
    ]),
    ("binhai-xinchuang", "cn-tianjin", "managed", 0.95, [
        ("bh-a", 16, 8, [("atlas-800t-a2", "Ascend910B", 600)]),
        ("bh-b", 16, 8, [("atlas-800t-a2", "Ascend910B", 200), ("mlu370-x8", "MLU370", 200)]),
    ]),
    ("qiantang-compute", "cn-hangzhou", "managed", 1.02, [
        ("qt-a", 32, 8, [("h100-sxm", "H100", 300), ("a100-sxm", "A100", 100),
                         ("l40s-pcie", "L40S", 180)]),
    ]),
    ("guian-datapark", "cn-guizhou", "managed", 0.90, [
        ("ga-a", 16, 8, [("atlas-800t-a2", "Ascend910B", 300), ("h20-sxm", "H20", 200)]),
        ("ga-b", 40, 8, [("rtx4090-pcie", "RTX4090", 250)]),
    ]),
    ("zhongwei-cloud", "cn-ningxia", "managed", 0.86, [
        ("zw-a", 32, 8, [("a800-sxm", "A800", 300), ("mlu370-x8", "MLU370", 100)]),
    ]),
]

# Device-type families: a job's acceptable types stay inside one family.
FAMILIES = {
    "hopper": ["H100", "H800"],
    "ampere": ["A100", "A800"],
    "ascend": ["Ascend910B"],
    "infer": ["H20", "L40S", "RTX4090"],
    "mlu": ["MLU370"],
}
FAMILY_OF = {t: f for f, ts in FAMILIES.items() for t in ts}
# Share of jobs, and demand as a multiple of the family's devices (all jobs of the hour overlap:
# runtimes are 10 minutes to a day, submissions span one hour).
FAMILY_JOB_SHARE = [("hopper", 0.38), ("ampere", 0.20), ("ascend", 0.12), ("infer", 0.24),
                    ("mlu", 0.06)]
FAMILY_DEMAND = {"hopper": 1.30, "ampere": 1.20, "ascend": 1.00, "infer": 0.70, "mlu": 0.80}
FAMILY_TYPESETS = {
    "hopper": [("H100|H800", 0.5), ("H100", 0.25), ("H800", 0.25)],
    "ampere": [("A100|A800", 0.5), ("A100", 0.3), ("A800", 0.2)],
    "ascend": [("Ascend910B", 1.0)],
    "infer": [("H20", 0.2), ("L40S", 0.15), ("RTX4090", 0.2), ("L40S|RTX4090", 0.2),
              ("H20|L40S", 0.1), ("H20|L40S|RTX4090", 0.15)],
    "mlu": [("MLU370", 1.0)],
}
# Job shape by family: frac (0.25/0.5 of one device), 1, 2, 4, 8 devices, gang (16..512).
FAMILY_SHAPES = {
    "hopper": [("frac", 0.05), ("1", 0.20), ("2", 0.08), ("4", 0.10), ("8", 0.22), ("gang", 0.35)],
    "ampere": [("frac", 0.05), ("1", 0.30), ("2", 0.10), ("4", 0.10), ("8", 0.20), ("gang", 0.25)],
    "ascend": [("1", 0.20), ("2", 0.05), ("4", 0.10), ("8", 0.30), ("gang", 0.35)],
    "infer": [("frac", 0.25), ("1", 0.35), ("2", 0.10), ("4", 0.10), ("8", 0.10), ("gang", 0.10)],
    "mlu": [("frac", 0.05), ("1", 0.35), ("2", 0.15), ("4", 0.15), ("8", 0.15), ("gang", 0.15)],
}
GANG_SIZES = [(16, 0.30), (32, 0.25), (64, 0.20), (128, 0.13), (256, 0.08), (512, 0.04)]
MAX_GANG = 512
MIN_GANG = 16

TENANT_PREFIXES = [
    "qingyun", "haiyan", "jinghong", "xuanwu", "tianshu", "yunji", "mingjing", "feiyu", "lanting",
    "zhuque", "baize", "xihe", "wangshu", "taichu", "qianli", "yunhai", "xingyao", "mochou",
    "lingxi", "chunshen", "jinlan", "shanhai", "huaying", "ziwei", "qiming", "taihu", "heyu",
    "yanxi", "linglong", "suzhi", "chengguang", "liuguang", "xuanji", "yaoguang", "tianquan",
    "kaiyang", "tianji", "tianxuan", "yuheng", "wenyuan", "boya", "guanlan", "jingwei", "youran",
    "sitong", "zhixing", "huaxin", "dianshan", "sheshan", "yuyuan",
]
TENANT_SUFFIXES = [
    "ai", "lab", "bio", "robotics", "med", "auto", "vision", "speech", "fintech", "edu", "chem",
    "materials", "drive", "gen", "llm",
]
TRAIN_DATASETS = [
    "web-zh-2024", "web-en-2024", "code-corpus-v3", "math-cot-v2", "med-imaging-ct",
    "speech-zh-10kh", "driving-clips-v5", "protein-seq-v2", "legal-docs-zh", "finance-news-zh",
    "img-text-pairs-v2", "robot-trajectories-v1", "materials-dft-v1", "chem-reactions-v2",
    "video-clips-v1", "sft-instruct-zh-v4",
]
EVAL_DATASETS = ["eval-suite-zh", "eval-suite-en", "eval-code", "eval-math", "eval-med-qa",
                 "eval-asr-zh", "eval-vision"]

CSV_HEADER = ("name,tenant,kind,workers,devices_per_worker,device_types,priority_class,"
              "preemptible,submit_time,runtime_estimate,runtime_limit,cpu_per_worker,"
              "memory_gib_per_worker,checkpoint_interval,restore_cost,datasets")

# Keys the C++ reader accepts, by table path ("[]" marks an array of tables).
SCHEMA = {
    "": {"device_types", "priority_classes", "policy", "providers", "tenants"},
    "priority_classes[]": {"name", "value", "preemptible"},
    "policy": {"queue", "placement", "preemption", "backfill", "fair_share_half_life_hours",
               "las_thresholds_device_seconds"},
    "providers[]": {"name", "region", "backend", "prices", "clusters"},
    "providers[].clusters[]": {"name", "nodes_per_switch", "switches_per_block", "node_groups"},
    "providers[].clusters[].node_groups[]": {"name", "count", "device_type", "devices_per_node",
                                              "interconnect_domain", "cpu_cores", "memory_gib"},
    "tenants[]": {"name", "weight", "priority_classes", "quota"},
}


def weighted(rng, pairs):
    """Picks a value from [(value, weight)] pairs."""
    total = sum(w for _, w in pairs)
    x = rng.random() * total
    for value, w in pairs:
        x -= w
        if x < 0:
            return value
    return pairs[-1][0]


# ---------------------------------------------------------------------------------------------
# Pool as data (the same shape tomllib gives back), totals, TOML writer.

def build_pool(rng):
    pool = {
        "priority_classes": [{"name": n, "value": v, "preemptible": p}
                             for n, v, p in PRIORITY_CLASSES],
        "policy": dict(POLICY),
        "providers": [],
        "tenants": [],
    }
    for name, region, backend, factor, clusters in PROVIDERS:
        hosted = []
        for _, _, _, groups in clusters:
            for _, t, _ in groups:
                if t not in hosted:
                    hosted.append(t)
        prices = {}
        for t in TYPES:
            if t in hosted:
                lo, hi = PRICE_RANGE[t]
                p = BASE_PRICE[t] * factor * (1.0 + rng.uniform(-0.04, 0.04))
                prices[t] = round(min(hi, max(lo, p)), 1)
        prov = {"name": name, "region": region, "backend": backend, "prices": prices,
                "clusters": []}
        for cname, nps, spb, groups in clusters:
            cl = {"name": cname, "nodes_per_switch": nps, "switches_per_block": spb,
                  "node_groups": []}
            for gname, t, count in groups:
                dpn, dom, cpu, mem = NODE_SHAPE[t]
                g = {"name": gname, "count": count, "device_type": t, "devices_per_node": dpn}
                if dom is not None:
                    g["interconnect_domain"] = dom
                g["cpu_cores"] = cpu
                g["memory_gib"] = mem
                cl["node_groups"].append(g)
            prov["clusters"].append(cl)
        pool["providers"].append(prov)
    pool["tenants"] = build_tenants(rng, pool_totals(pool)["devices_by_type"])
    return pool


def pool_totals(pool):
    """Devices by type, total devices, nodes, exact GFLOPS, and per-type cluster capacities."""
    by_type = {t: 0 for t in TYPES}
    nodes = 0
    gflops = 0
    by_region = {}
    for prov in pool["providers"]:
        for cl in prov["clusters"]:
            for g in cl["node_groups"]:
                n = g["count"] * g["devices_per_node"]
                by_type[g["device_type"]] += n
                nodes += g["count"]
                gflops += n * GFLOPS[g["device_type"]]
                by_region[prov["region"]] = by_region.get(prov["region"], 0) + n
    by_type = {t: n for t, n in by_type.items() if n}
    return {"devices_by_type": by_type, "devices": sum(by_type.values()), "nodes": nodes,
            "gflops": gflops, "eflops": gflops / 1e9, "pflops": gflops / 1e6,
            "devices_by_region": by_region}


def print_totals(title, pool, out=sys.stdout):
    tot = pool_totals(pool)
    nclusters = sum(len(p["clusters"]) for p in pool["providers"])
    print(f"== {title}: {len(pool['providers'])} providers, {nclusters} clusters, "
          f"{tot['nodes']:,} nodes, {len(pool['tenants'])} tenants", file=out)
    for t, n in tot["devices_by_type"].items():
        pf = n * GFLOPS[t] / 1e6
        print(f"   {t:<11} {n:>7,} devices  {pf:>9,.1f} PFLOPS", file=out)
    print(f"   {'total':<11} {tot['devices']:>7,} devices  {tot['pflops']:>9,.1f} PFLOPS"
          f" = {tot['eflops']:.2f} EFLOPS (dense FP16/BF16)", file=out)
    regions = ", ".join(f"{r} {n:,}" for r, n in tot["devices_by_region"].items())
    print(f"   by region: {regions}", file=out)
    return tot


def build_tenants(rng, capacity):
    combos = [f"{p}-{s}" for p in TENANT_PREFIXES for s in TENANT_SUFFIXES]
    rng.shuffle(combos)
    names = [f"t{i + 1:03d}-{combos[i]}" for i in range(NUM_TENANTS)]
    # Size: Zipf-like over a random ranking, so t001 is not necessarily the largest.
    ranks = list(range(1, NUM_TENANTS + 1))
    rng.shuffle(ranks)
    sizes = [1.0 / r ** 0.9 for r in ranks]
    tenants = []
    for i, name in enumerate(names):
        r = ranks[i]
        weight = 4 if r <= 10 else 3 if r <= 25 else 2 if r <= 55 else 1
        nfam = 3 if r <= 15 else 2 if r <= 50 else 1
        fams = []
        while len(fams) < nfam:
            f = weighted(rng, [("hopper", 0.50), ("ampere", 0.30), ("ascend", 0.20),
                               ("infer", 0.30), ("mlu", 0.08)])
            if f not in fams:
                fams.append(f)
        qtypes = []
        for f in fams:
            ts = [t for t in FAMILIES[f] if rng.random() < 0.7] or [rng.choice(FAMILIES[f])]
            qtypes += ts
        classes = ["low", "normal", "high"] if (r <= 30 or rng.random() < 0.15) else \
            ["low", "normal"]
        tenants.append({"name": name, "weight": weight, "priority_classes": classes,
                        "_size": sizes[i], "_families": fams,
                        "_qtypes": [t for t in TYPES if t in qtypes]})
    # Guaranteed: 60% of each type, shared by the tenants holding a quota on it, by size.
    for t in TYPES:
        holders = [tn for tn in tenants if t in tn["_qtypes"]]
        if not holders:
            continue
        total_size = sum(tn["_size"] for tn in holders)
        for tn in holders:
            share = 0.60 * capacity[t] * tn["_size"] / total_size
            g = int(share // 8) * 8 if share >= 8 else int(share)
            mx = max(g * rng.choice([2, 3, 4]), 32)
            mx = min(capacity[t] // 2, int(math.ceil(mx / 8.0)) * 8)
            tn.setdefault("quota", {})[t] = {"guaranteed": g, "max": mx}
    for tn in tenants:
        if "quota" in tn:
            tn["quota"] = {t: tn["quota"][t] for t in TYPES if t in tn["quota"]}
    return tenants


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return '"' + v + '"'
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(v)


def write_pool_toml(pool, header_lines):
    tot = pool_totals(pool)
    out = [f"# {line}" if line else "#" for line in header_lines]
    out.append("")
    for pc in pool["priority_classes"]:
        out.append("[[priority_classes]]")
        for k in ("name", "value", "preemptible"):
            out.append(f"{k} = {toml_value(pc[k])}")
        out.append("")
    out.append("[policy]")
    for k, v in pool["policy"].items():
        out.append(f"{k} = {toml_value(v)}")
    out.append("")
    for prov in pool["providers"]:
        devs = {}
        for cl in prov["clusters"]:
            for g in cl["node_groups"]:
                devs[g["device_type"]] = devs.get(g["device_type"], 0) + \
                    g["count"] * g["devices_per_node"]
        summary = ", ".join(f"{n:,} {t}" for t, n in devs.items())
        ncl = len(prov["clusters"])
        out.append(f"# {prov['name']} ({prov['region']}, {prov['backend']}): "
                   f"{ncl} cluster{'s' if ncl > 1 else ''}, {summary}")
        out.append("[[providers]]")
        for k in ("name", "region", "backend"):
            out.append(f"{k} = {toml_value(prov[k])}")
        out.append("[providers.prices]")
        for t, p in prov["prices"].items():
            out.append(f"{t} = {toml_value(p)}")
        if prov["backend"] == "delegated":
            out.append("# Its engine: uncomment to hand its jobs to the partner's Slurm (docs/slurm.md).")
            out.append("# [providers.slurm]")
            out.append('# mode = "rest"                  # slurmrestd; "cli": sbatch/squeue/scancel here')
            out.append(f'# url = "http://slurm.{prov["name"]}.example:6820"')
            out.append('# user = "suanpan"')
            out.append(f'# token_file = "/etc/suanpan/{prov["name"]}.jwt"   # scontrol token')
            out.append('# partition = "gpu"')
            out.append('# account = "hub"')
            out.append(f'# output_dir = "/shared/suanpan/{prov["name"]}"  # read by the server')
            out.append("# [providers.slurm.gres]")
            for t in prov["prices"]:
                out.append(f'# {t} = "gpu:{t.lower()}"')
        for cl in prov["clusters"]:
            out.append("")
            out.append("[[providers.clusters]]")
            for k in ("name", "nodes_per_switch", "switches_per_block"):
                out.append(f"{k} = {toml_value(cl[k])}")
            for g in cl["node_groups"]:
                out.append("[[providers.clusters.node_groups]]")
                for k in ("name", "count", "device_type", "devices_per_node",
                          "interconnect_domain", "cpu_cores", "memory_gib"):
                    if k in g:
                        out.append(f"{k} = {toml_value(g[k])}")
        out.append("")
    out.append(f"# {len(pool['tenants'])} tenants. Guaranteed quotas add up to about 60% of each "
               f"device type; a type")
    out.append("# without a quota entry has guaranteed 0 and no max.")
    for tn in pool["tenants"]:
        out.append("")
        out.append("[[tenants]]")
        for k in ("name", "weight", "priority_classes"):
            out.append(f"{k} = {toml_value(tn[k])}")
        for t, q in tn.get("quota", {}).items():
            out.append(f"[tenants.quota.{t}]")
            out.append(f"guaranteed = {toml_value(q['guaranteed'])}")
            out.append(f"max = {toml_value(q['max'])}")
    del tot
    return "\n".join(out) + "\n"


def public(pool):
    """The pool without the generator's private fields (keys starting with '_')."""
    if isinstance(pool, dict):
        return {k: public(v) for k, v in pool.items() if not k.startswith("_")}
    if isinstance(pool, list):
        return [public(x) for x in pool]
    return pool


# ---------------------------------------------------------------------------------------------
# Capacity helpers shared by the job generator and the checker.

class Capacity:
    def __init__(self, pool):
        self.pool = pool
        self.tenants = {t["name"]: t for t in pool["tenants"]}
        self.groups = []  # (cluster key, group)
        for prov in pool["providers"]:
            for cl in prov["clusters"]:
                for g in cl["node_groups"]:
                    self.groups.append(((prov["name"], cl["name"]), g))

    def per_device_share(self, t):
        """Smallest (cores, GiB) per device over the nodes of type t."""
        shares = [(g["cpu_cores"] / g["devices_per_node"], g["memory_gib"] / g["devices_per_node"])
                  for _, g in self.groups if g["device_type"] == t]
        return min(s[0] for s in shares), min(s[1] for s in shares)

    def gang_cap(self, t, dpw, cpu=0, mem=0):
        """Most devices a gang of dpw-device workers can get of type t in one cluster."""
        by_cluster = {}
        for key, g in self.groups:
            if g["device_type"] != t or g["devices_per_node"] < dpw:
                continue
            per_node = int(g["devices_per_node"] // dpw) if dpw >= 1 else 1
            if cpu:
                per_node = min(per_node, int(g["cpu_cores"] // cpu))
            if mem:
                per_node = min(per_node, int(g["memory_gib"] // mem))
            by_cluster[key] = by_cluster.get(key, 0) + g["count"] * per_node * dpw
        return max(by_cluster.values(), default=0)

    def tenant_max(self, tenant, t):
        q = self.tenants[tenant].get("quota", {}).get(t)
        return math.inf if q is None else q["max"]

    def job_cap(self, tenant, types, dpw):
        return max(min(self.gang_cap(t, dpw), self.tenant_max(tenant, t)) for t in types)


# ---------------------------------------------------------------------------------------------
# Jobs.

def log_uniform_int(rng, lo, hi, step=60):
    v = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    return int(min(hi, max(lo, round(v / step) * step)))


def pick_kind(rng, shape):
    table = {
        "frac": [("inference", 0.5), ("interactive", 0.5)],
        "1": [("batch", 0.5), ("interactive", 0.15), ("inference", 0.2), ("training", 0.15)],
        "2": [("training", 0.4), ("batch", 0.3), ("inference", 0.25), ("interactive", 0.05)],
        "4": [("training", 0.4), ("batch", 0.3), ("inference", 0.25), ("interactive", 0.05)],
        "8": [("training", 0.6), ("batch", 0.2), ("inference", 0.2)],
        "gang": [("training", 0.92), ("inference", 0.08)],
    }
    return weighted(rng, table[shape])


def pick_class(rng, kind, allowed):
    table = {
        "batch": [("low", 0.6), ("normal", 0.4)],
        "training": [("low", 0.2), ("normal", 0.7), ("high", 0.1)],
        "inference": [("low", 0.1), ("normal", 0.6), ("high", 0.3)],
        "interactive": [("normal", 0.8), ("high", 0.2)],
    }
    c = weighted(rng, table[kind])
    return c if c in allowed else "normal"


def fmt_dpw(d):
    return str(d) if isinstance(d, int) else repr(d)


def build_jobs(rng, pool):
    cap = Capacity(pool)
    tenants = pool["tenants"]
    submits = sorted(rng.randint(0, SUBMIT_WINDOW_S) for _ in range(NUM_JOBS))
    jobs = []
    for i, submit in enumerate(submits):
        fam = weighted(rng, FAMILY_JOB_SHARE)
        interested = [t for t in tenants if fam in t["_families"]]
        pool_of = interested if (interested and rng.random() < 0.9) else tenants
        tenant = weighted(rng, [(t["name"], t["_size"] ** 0.6) for t in pool_of])
        types = weighted(rng, FAMILY_TYPESETS[fam]).split("|")
        shape = weighted(rng, FAMILY_SHAPES[fam])
        kind = pick_kind(rng, shape)
        if shape == "frac":
            workers, dpw = 1, rng.choice([0.25, 0.5])
        elif shape == "gang":
            dpw = 4 if rng.random() < (0.6 if fam == "mlu" else 0.1) else 8
            size = weighted(rng, GANG_SIZES) if kind == "training" else 16
            limit = min(MAX_GANG, cap.job_cap(tenant, types, dpw))
            while size > limit and size > MIN_GANG:
                size //= 2
            if size > limit:  # the tenant's max is below a 16-device gang: one 8-device worker
                shape, workers, dpw = "8", 1, 8
            else:
                workers = size // dpw
        else:
            workers, dpw = 1, int(shape)
        jobs.append({"name": f"j{i + 1:06d}", "tenant": tenant, "kind": kind,
                     "workers": workers, "dpw": dpw, "types": types, "submit": submit,
                     "_family": fam})
    calibrate(rng, jobs, cap)
    for j in jobs:
        finish_job(rng, j, cap)
    return jobs


def calibrate(rng, jobs, cap):
    """Halves or doubles gangs until each family's demand is within 2% of its target."""
    capacity = pool_totals(cap.pool)["devices_by_type"]
    for fam, mult in FAMILY_DEMAND.items():
        target = mult * sum(capacity.get(t, 0) for t in FAMILIES[fam])
        fam_jobs = [j for j in jobs if j["_family"] == fam]
        gangs = [j for j in fam_jobs if j["workers"] > 1]
        demand = sum(j["workers"] * j["dpw"] for j in fam_jobs)
        for _ in range(100_000):
            if demand > target * 1.02:
                cands = [j for j in gangs if j["workers"] * j["dpw"] // 2 >= MIN_GANG]
                if not cands:
                    break
                j = rng.choice(cands)
                demand -= j["workers"] * j["dpw"] // 2
                j["workers"] //= 2
            elif demand < target * 0.98:
                cands = [j for j in gangs if j["kind"] == "training" and
                         2 * j["workers"] * j["dpw"] <= min(MAX_GANG, cap.job_cap(
                             j["tenant"], j["types"], j["dpw"]))]
                if not cands:
                    break
                j = rng.choice(cands)
                demand += j["workers"] * j["dpw"]
                j["workers"] *= 2
            else:
                break


def finish_job(rng, j, cap):
    tenant = cap.tenants[j["tenant"]]
    kind, dpw, workers = j["kind"], j["dpw"], j["workers"]
    j["class"] = pick_class(rng, kind, tenant["priority_classes"])
    j["preemptible"] = CLASS_PREEMPTIBLE[j["class"]]
    ranges = {"training": (1800, 86400), "batch": (600, 21600), "inference": (3600, 86400),
              "interactive": (600, 14400)}
    est = log_uniform_int(rng, *ranges[kind])
    j["estimate"] = est
    limit = None
    if kind == "interactive":
        limit = next(x for x in (7200, 14400, 28800) if x >= est)
    elif kind == "batch" and rng.random() < 0.5:
        limit = int(math.ceil(est * 1.5 / 3600.0)) * 3600
    elif kind == "training" and rng.random() < 0.3:
        limit = int(math.ceil(est * 1.25 / 3600.0)) * 3600
    elif kind == "inference" and rng.random() < 0.1:
        limit = int(math.ceil(est * 1.2 / 3600.0)) * 3600
    j["limit"] = limit
    devices = workers * dpw
    ckpt = restore = None
    if kind == "training" and rng.random() < (0.7 if devices >= 8 else 0.4):
        options = [x for x in (900, 1800, 3600) if x < est]
        if options:
            ckpt = rng.choice(options)
            restore = min(900, int(60 + 10 * math.sqrt(devices) * rng.uniform(1.0, 4.0)))
    j["ckpt"], j["restore"] = ckpt, restore
    if dpw < 1:
        j["cpu"] = rng.choice([1, 2, 4])
        j["mem"] = rng.choice([4, 8, 16])
    else:
        max_cpu = min(min(cap.per_device_share(t)[0] for t in j["types"]), 12)
        max_mem = min(min(cap.per_device_share(t)[1] for t in j["types"]), 100)
        j["cpu"] = rng.choice([c for c in (4, 6, 8, 10, 12) if c <= max_cpu]) * dpw
        j["mem"] = rng.choice([m for m in (32, 48, 64, 80, 96) if m <= max_mem]) * dpw
    if kind == "training":
        ds = rng.sample(TRAIN_DATASETS, rng.choice([1, 1, 2]))
    elif kind == "batch":
        ds = [rng.choice(EVAL_DATASETS)]
    elif kind == "interactive" and rng.random() < 0.3:
        ds = [rng.choice(TRAIN_DATASETS)]
    else:
        ds = []
    j["datasets"] = ds


def job_row(j):
    def opt(v):
        return "" if v is None else str(v)
    return ",".join([
        j["name"], j["tenant"], j["kind"], str(j["workers"]), fmt_dpw(j["dpw"]),
        "|".join(j["types"]), j["class"], "true" if j["preemptible"] else "false",
        str(j["submit"]), str(j["estimate"]), opt(j["limit"]), str(j["cpu"]), str(j["mem"]),
        opt(j["ckpt"]), opt(j["restore"]), "|".join(j["datasets"]),
    ])


def write_jobs_csv(jobs):
    return CSV_HEADER + "\n" + "".join(job_row(j) + "\n" for j in jobs)


# ---------------------------------------------------------------------------------------------
# Checks on the written text.

def check_keys(data, path, errors):
    allowed = SCHEMA.get(path)
    if allowed is None:
        return
    for k, v in data.items():
        if k not in allowed:
            errors.append(f"unknown key {path or '<root>'}.{k}")
            continue
        sub = f"{path}.{k}" if path else k
        if isinstance(v, list) and v and isinstance(v[0], dict):
            for item in v:
                check_keys(item, sub + "[]", errors)
        elif isinstance(v, dict):
            check_keys(v, sub, errors)


def check_pool(text, expected, label):
    errors = []
    if tomllib is not None:
        parsed = tomllib.loads(text)
        if expected is not None and parsed != expected:
            errors.append("parsed TOML differs from the generator's data")
        pool = parsed
    else:
        pool = expected
    check_keys(pool, "", errors)
    classes = {c["name"] for c in pool["priority_classes"]}
    totals = pool_totals(pool)["devices_by_type"]
    names = set()
    for prov in pool["providers"]:
        if prov["name"] in names:
            errors.append(f"duplicate provider {prov['name']}")
        names.add(prov["name"])
        if prov["backend"] not in ("managed", "delegated"):
            errors.append(f"{prov['name']}: backend {prov['backend']}")
        for cl in prov["clusters"]:
            for g in cl["node_groups"]:
                t = g["device_type"]
                if t not in GFLOPS:
                    errors.append(f"{prov['name']}/{cl['name']}: unknown type {t}")
                if t not in prov["prices"]:
                    errors.append(f"{prov['name']}: no price for {t}")
                if g.get("interconnect_domain", 1) > max(TYPE_DOMAIN.get(t, 1),
                                                         g["devices_per_node"]):
                    errors.append(f"{prov['name']}/{cl['name']}/{g['name']}: domain too large")
    guaranteed = {}
    tnames = set()
    for tn in pool["tenants"]:
        if tn["name"] in tnames:
            errors.append(f"duplicate tenant {tn['name']}")
        tnames.add(tn["name"])
        if not 1 <= tn["weight"]:
            errors.append(f"{tn['name']}: weight {tn['weight']}")
        for c in tn["priority_classes"]:
            if c not in classes:
                errors.append(f"{tn['name']}: unknown class {c}")
        for t, q in tn.get("quota", {}).items():
            if t not in totals:
                errors.append(f"{tn['name']}: quota on {t}, which the pool lacks")
                continue
            if not 0 <= q["guaranteed"] <= q["max"] <= totals[t]:
                errors.append(f"{tn['name']}: quota {t} {q}")
            guaranteed[t] = guaranteed.get(t, 0) + q["guaranteed"]
    for t, g in guaranteed.items():
        if g >= totals[t]:
            errors.append(f"guaranteed {t} sums to {g} >= {totals[t]} devices")
    if errors:
        sys.exit(f"{label}: " + "; ".join(errors[:20]))
    return pool


def parse_jobs(text):
    lines = text.splitlines()
    header = lines[0].split(",")
    if lines[0] != CSV_HEADER:
        raise ValueError("header")
    rows = []
    for line in lines[1:]:
        fields = line.split(",")
        if len(fields) != len(header):
            raise ValueError(f"{len(fields)} fields: {line}")
        rows.append(dict(zip(header, fields)))
    return rows


def check_jobs(text, pool, label):
    cap = Capacity(pool)
    classes = {c["name"]: c for c in pool["priority_classes"]}
    errors = []
    seen = set()
    last_submit = -1
    for r in parse_jobs(text):
        where = f"{label} {r['name']}"
        if r["name"] in seen:
            errors.append(f"{where}: duplicate name")
        seen.add(r["name"])
        tenant = cap.tenants.get(r["tenant"])
        if tenant is None:
            errors.append(f"{where}: unknown tenant")
            continue
        if r["kind"] not in ("training", "batch", "inference", "interactive"):
            errors.append(f"{where}: kind")
        if r["priority_class"] not in tenant["priority_classes"]:
            errors.append(f"{where}: class not allowed")
        if r["preemptible"] not in ("true", "false"):
            errors.append(f"{where}: preemptible")
        elif r["priority_class"] == "high" and r["preemptible"] != "false":
            errors.append(f"{where}: high class preemptible")
        workers = int(r["workers"])
        dpw = float(r["devices_per_worker"])
        cpu, mem = int(r["cpu_per_worker"]), int(r["memory_gib_per_worker"])
        if dpw < 1:
            if workers != 1 or dpw not in (0.25, 0.5) or cpu > 4 or mem > 16:
                errors.append(f"{where}: fractional job")
        elif dpw != int(dpw) or cpu > 12 * dpw or mem > 100 * dpw:
            errors.append(f"{where}: devices/cpu/memory per worker")
        types = r["device_types"].split("|")
        if any(t not in GFLOPS for t in types):
            errors.append(f"{where}: unknown type")
            continue
        d = max(1, int(dpw)) if dpw >= 1 else dpw
        fits = False
        for t in types:
            per_worker_cap = cap.gang_cap(t, d, cpu, mem) if dpw >= 1 else \
                cap.gang_cap(t, 1, cpu, mem)
            need = workers * (int(dpw) if dpw >= 1 else 1)
            if per_worker_cap >= need and cap.tenant_max(r["tenant"], t) >= workers * dpw:
                fits = True
        if not fits:
            errors.append(f"{where}: infeasible ({workers} x {dpw} {r['device_types']})")
        submit, est = int(r["submit_time"]), int(r["runtime_estimate"])
        if submit < last_submit:
            errors.append(f"{where}: submit times not sorted")
        last_submit = submit
        if est <= 0:
            errors.append(f"{where}: runtime_estimate")
        for k in ("runtime_limit", "checkpoint_interval", "restore_cost"):
            if r[k] and int(r[k]) <= 0:
                errors.append(f"{where}: {k}")
        if r["priority_class"] not in classes:
            errors.append(f"{where}: unknown class")
    if errors:
        sys.exit("; ".join(errors[:20]))


def demand_report(pool, text, out=sys.stdout):
    capacity = pool_totals(pool)["devices_by_type"]
    rows = parse_jobs(text)
    by_set = {}
    by_kind = {}
    shapes = {"fractional": 0, "1": 0, "2": 0, "4": 0, "8": 0, "gang": 0}
    for r in rows:
        d = int(r["workers"]) * float(r["devices_per_worker"])
        by_set[r["device_types"]] = by_set.get(r["device_types"], 0) + d
        by_kind[r["kind"]] = by_kind.get(r["kind"], 0) + 1
        w, dpw = int(r["workers"]), float(r["devices_per_worker"])
        key = "gang" if w > 1 else "fractional" if dpw < 1 else str(int(dpw))
        shapes[key] = shapes.get(key, 0) + 1
    gangs = [int(r["workers"]) * float(r["devices_per_worker"])
             for r in rows if int(r["workers"]) > 1]
    print(f"== jobs: {len(rows)} ({', '.join(f'{k} {v}' for k, v in by_kind.items())})",
          file=out)
    print(f"   shapes: {', '.join(f'{k} {v}' for k, v in shapes.items())}; gangs "
          f"{int(min(gangs, default=0))}..{int(max(gangs, default=0))} devices", file=out)
    print("   demand by acceptable types (devices requested by jobs of the hour):", file=out)
    for s, d in sorted(by_set.items(), key=lambda kv: -kv[1]):
        print(f"     {s:<18} {d:>9,.2f}", file=out)
    print("   demand vs capacity by family:", file=out)
    total_d = total_c = 0
    for fam, ts in FAMILIES.items():
        c = sum(capacity.get(t, 0) for t in ts)
        d = sum(v for s, v in by_set.items() if FAMILY_OF[s.split("|")[0]] == fam)
        if not c and not d:
            continue
        total_d += d
        total_c += c
        ratio = f"{d / c:.2f}x" if c else "-"
        print(f"     {'|'.join(t for t in ts if t in capacity):<22} demand {d:>9,.2f}  "
              f"capacity {c:>7,}  {ratio}", file=out)
    print(f"     {'all':<22} demand {total_d:>9,.2f}  capacity {total_c:>7,}  "
          f"{total_d / total_c:.2f}x", file=out)


# ---------------------------------------------------------------------------------------------
# The small pool and its jobs: written by hand, here so that one script owns every example.

SMALL_POOL = """\
# A small pool for a first look: 2 compute partners, 3 clusters, 20 nodes holding 64 H100,
# 24 RTX 4090 and 48 Ascend 910B (136 devices, 82.3 PFLOPS dense FP16), and 3 tenants.
# Generated by tools/gen_examples.py (edit the script, not this file). Counts are devices, nodes
# or cores; memory is GiB; prices are yuan per device-hour. Each field is explained where it
# first appears. Device types are the built-in ones: H100 H800 H20 A100 A800 L40S RTX4090
# Ascend910B MLU370.

# Priority classes. A job names one of them; its tenant must be allowed to use it.
[[priority_classes]]
name = "low"
value = 0               # higher value is scheduled first
preemptible = true      # running jobs of this class may be stopped (checkpointed if they can)
                        # to make room for a higher class or a tenant's guaranteed quota

[[priority_classes]]
name = "normal"
value = 100
preemptible = true

[[priority_classes]]
name = "high"
value = 1000
preemptible = false     # never stopped once running

# How the whole pool is scheduled.
[policy]
queue = "fair_share"            # queue order: fifo | priority | fair_share | las | srtf
placement = "topology_pack"     # where a job lands: best_fit | topology_pack | frag_aware
preemption = true               # may stop preemptible jobs (see priority_classes)
backfill = true                 # may start smaller jobs early if the gang at the head of the
                                # queue is not delayed by it
fair_share_half_life_hours = 168              # past usage counts half after a week
las_thresholds_device_seconds = [3250, 7200, 18000]  # las: a job drops one queue level each
                                                     # time its use passes a threshold

# A compute partner. backend "managed": suanpan's agent runs on the nodes and suanpan places
# each job down to the device. "delegated": suanpan picks the partner and hands the job to the
# partner's own engine (Slurm), which places it.
[[providers]]
name = "pudong-dc"
region = "cn-shanghai"
backend = "managed"

# Price per device-hour for every device type this partner hosts.
[providers.prices]
H100 = 15.5
RTX4090 = 2.2

# A cluster is one network: a gang never spans two clusters. Nodes hang off leaf switches;
# leaf switches form blocks (spine groups).
[[providers.clusters]]
name = "pd-h100"
nodes_per_switch = 4            # nodes under one leaf switch
switches_per_block = 2          # leaf switches in one block

# Identical nodes. A group starts on a new leaf switch and fills it: 8 nodes at 4 per switch
# make 2 leaf switches of 32 H100, in one block.
[[providers.clusters.node_groups]]
name = "h100-sxm"
count = 8                       # nodes
device_type = "H100"
devices_per_node = 8
interconnect_domain = 8         # devices sharing NVLink; optional, by default the smaller of
                                # the type's domain and devices_per_node
cpu_cores = 192                 # per node
memory_gib = 2048               # per node

[[providers.clusters]]
name = "pd-4090"
nodes_per_switch = 8
switches_per_block = 1

# 6 PCIe servers of 4 cards: no NVLink, so every card is its own domain.
[[providers.clusters.node_groups]]
name = "rtx4090-pcie"
count = 6
device_type = "RTX4090"
devices_per_node = 4
interconnect_domain = 1
cpu_cores = 64
memory_gib = 256

# A domestic-stack (Xinchuang) partner that keeps its own Slurm.
[[providers]]
name = "binhai-xinchuang"
region = "cn-tianjin"
backend = "delegated"

[providers.prices]
Ascend910B = 6.8

# Its engine. Without it a delegated provider takes no work; with it suanpan hands the jobs to
# the partner's Slurm (docs/slurm.md has every key):
# [providers.slurm]
# mode = "rest"                    # slurmrestd (JWT); "cli": sbatch/squeue/scancel on this host
# url = "http://slurm.binhai.example:6820"
# user = "suanpan"
# token_file = "/etc/suanpan/binhai.jwt"
# partition = "npu"
# output_dir = "/shared/suanpan/binhai"   # where jobs write output; the server reads it
# [providers.slurm.gres]
# Ascend910B = "npu:910b"

[[providers.clusters]]
name = "bh-910b"
nodes_per_switch = 8
switches_per_block = 1

# Atlas 800T A2 servers: 8 Ascend 910B joined by HCCS.
[[providers.clusters.node_groups]]
name = "atlas-800t-a2"
count = 6
device_type = "Ascend910B"
devices_per_node = 8
cpu_cores = 192
memory_gib = 1536

# A tenant: a company or lab renting from the pool.
[[tenants]]
name = "t01-qingyun-ai"
weight = 2                      # fair-share weight: when all three want more, this one gets
                                # 2 parts of the contended capacity, the others 1 each
priority_classes = ["low", "normal", "high"]    # classes its jobs may use

# Quota per device type, in devices. guaranteed: always available to this tenant (others'
# borrowed use of it is preempted to give it back). max: the most it may hold, bursting into
# idle capacity. A type without an entry: guaranteed 0, no max.
[tenants.quota.H100]
guaranteed = 32
max = 64

[[tenants]]
name = "t02-haiyan-bio"
weight = 1
priority_classes = ["low", "normal"]

[tenants.quota.H100]
guaranteed = 16
max = 48

[tenants.quota.RTX4090]
guaranteed = 0.5                # fractions of a device are allowed: half a card for notebooks
max = 8

[[tenants]]
name = "t03-tianshu-lab"
weight = 1
priority_classes = ["low", "normal"]

[tenants.quota.Ascend910B]
guaranteed = 32
max = 48

[tenants.quota.RTX4090]
guaranteed = 8
max = 16
"""

# At time 0-120 the H100 cluster fills to 56 of 64 (j01 32 + j02 16 + j07 8). j08 (32 H100) must
# wait: no other cluster has H100, and the running jobs are of its own class, so nothing is
# preempted. j13 (16 Ascend) waits behind j03 and j11 (32 + 8 of 48) and its tenant's max of 48.
SMALL_JOBS = CSV_HEADER + "\n" + """\
j01,t01-qingyun-ai,training,4,8,H100,normal,true,0,28800,36000,96,768,1800,300,web-zh-2024|code-corpus-v3
j02,t02-haiyan-bio,training,2,8,H100,normal,true,0,14400,,96,768,3600,120,protein-seq-v2
j03,t03-tianshu-lab,training,4,8,Ascend910B,normal,true,30,21600,,96,768,1800,240,legal-docs-zh
j04,t02-haiyan-bio,interactive,1,0.25,RTX4090,normal,true,60,3600,7200,2,8,,,
j05,t03-tianshu-lab,inference,1,0.5,RTX4090,normal,true,90,7200,,4,16,,,
j06,t01-qingyun-ai,batch,1,1,RTX4090|H100,low,true,100,1800,3600,8,48,,,eval-suite-zh
j07,t01-qingyun-ai,inference,1,8,H100,high,false,120,3600,,64,512,,,
j08,t02-haiyan-bio,training,4,8,H100,normal,true,180,10800,,96,768,1800,200,protein-seq-v2
j09,t03-tianshu-lab,training,2,4,RTX4090,normal,true,240,7200,,32,200,1800,60,legal-docs-zh
j10,t02-haiyan-bio,batch,1,2,RTX4090,low,true,300,3600,7200,16,96,,,eval-med-qa
j11,t03-tianshu-lab,inference,1,8,Ascend910B,normal,true,360,14400,,64,512,,,
j12,t01-qingyun-ai,batch,1,1,H100,low,true,420,1200,,8,64,,,eval-suite-en
j13,t03-tianshu-lab,training,2,8,Ascend910B,low,true,480,7200,,96,768,1800,180,legal-docs-zh
j14,t02-haiyan-bio,interactive,1,0.5,RTX4090,normal,true,540,5400,7200,4,16,,,
j15,t01-qingyun-ai,batch,1,4,RTX4090,low,true,600,2400,3600,32,128,,,eval-code
"""


# ---------------------------------------------------------------------------------------------

def generate():
    """Returns {relative path: text} and the pool data, without touching the disk."""
    rng = random.Random(SEED)
    pool = build_pool(rng)
    tot = pool_totals(pool)
    header = [
        "Seed-scale example pool: a regional AI hub federating 9 compute partners.",
        "Generated by tools/gen_examples.py (fixed seed); edit the script and rerun it rather than",
        "editing this file.",
        f"{len(pool['providers'])} providers, "
        f"{sum(len(p['clusters']) for p in pool['providers'])} clusters, "
        f"{tot['nodes']:,} nodes, {tot['devices']:,} accelerators, "
        f"{tot['eflops']:.2f} EFLOPS dense FP16/BF16,",
        f"{len(pool['tenants'])} tenants. Accelerators by type:",
    ] + ["  " + ", ".join(f"{t} {n:,}" for t, n in list(tot["devices_by_type"].items())[i:i + 5])
         for i in (0, 5)] + [
        "Prices are yuan per device-hour; quotas are devices.",
    ]
    pool_text = write_pool_toml(pool, header)
    jobs = build_jobs(rng, pool)
    jobs_text = write_jobs_csv(jobs)
    files = {
        "examples/pool.toml": pool_text,
        "examples/jobs.csv": jobs_text,
        "examples/small-pool.toml": SMALL_POOL,
        "examples/small-jobs.csv": SMALL_JOBS,
        "fuzz/seeds/pool/small.toml": SMALL_POOL,
        "fuzz/seeds/jobs/small.csv": SMALL_JOBS,
    }
    big = check_pool(pool_text, public(pool), "examples/pool.toml")
    check_jobs(jobs_text, big, "examples/jobs.csv")
    small = check_pool(SMALL_POOL, None, "examples/small-pool.toml")
    check_jobs(SMALL_JOBS, small, "examples/small-jobs.csv")
    return files, big, small


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   ".."), help="repository root")
    ap.add_argument("--check", action="store_true",
                    help="do not write; fail if any file differs from what would be written")
    args = ap.parse_args()
    files, big, small = generate()
    stale = []
    for rel, text in files.items():
        path = os.path.join(args.root, rel)
        if args.check:
            try:
                with open(path, encoding="utf-8") as f:
                    if f.read() != text:
                        stale.append(rel)
            except FileNotFoundError:
                stale.append(rel)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        print(f"wrote {rel} ({len(text):,} bytes)")
    print_totals("examples/pool.toml", big)
    demand_report(big, files["examples/jobs.csv"])
    print_totals("examples/small-pool.toml", small)
    demand_report(small, files["examples/small-jobs.csv"])
    if stale:
        sys.exit("out of date (rerun tools/gen_examples.py): " + ", ".join(stale))


if __name__ == "__main__":
    main()
