#!/usr/bin/env bash
# Installs the Debian packages suanpan builds and tests with. Idempotent: when every package is
# already installed it asks dpkg only (well under a second) and never touches the network.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ make ccache          # build
  libtomlplusplus-dev                        # pool description files (TOML)
  libcli11-dev                               # command-line parsing
  libfmt-dev                                 # formatting (GCC 12 has no <format>)
  nlohmann-json3-dev                         # JSON output of `plan` and reports
  libgtest-dev libgmock-dev                  # unit, conformance and integration tests
  libbenchmark-dev                           # bench/ (Google Benchmark)
  libboost-dev                               # HTTP server of the API (Boost.Beast + Asio)
  libsqlite3-dev libsqlitecpp-dev            # the durable store (SQLite in WAL mode)
  libspdlog-dev                              # structured server logs
  libcurl4-openssl-dev                       # HTTP client of the CLI
  libssl-dev                                 # SHA-256 of API tokens, random bytes, TLS of the API
  openssl                                    # the TLS tests make their certificates
  prometheus-cpp-dev                         # /metrics (counters, histograms, text format)
  runc umoci skopeo                          # container images of jobs: run, unpack, fetch
  busybox-static docker-registry             # tests: a local test image, a registry to pull from
  munge slurm-wlm slurm-client slurmrestd    # delegated providers: a real Slurm in the tests
  slurm-wlm-jwt-plugin                       # slurmrestd JWT auth (auth/jwt)
  clang-14 libclang-rt-14-dev clang-format   # libFuzzer targets and the format check
  chromium                                   # invoices as PDF; the dashboard's browser tests
  fonts-wqy-microhei                         # Chinese labels in the browser tests' screenshots
  nodejs                                     # the dashboard's build (Vite), tests (npm, below)
)

# npm packages from their lock files, each installed when missing or when its lock file changed
# since: the dashboard's toolchain (web/: Vite, TypeScript, Preact, uPlot, playwright-core) and
# the test identity provider (tests/oidc: node-oidc-provider).
npm_deps() {
  local root dir
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  for dir in "$root/web" "$root/tests/oidc"; do
    if [[ ! -f $dir/node_modules/.package-lock.json || $dir/package-lock.json -nt $dir/node_modules/.package-lock.json ]]; then
      echo "deps: npm ci in ${dir#"$root"/}"
      npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
    fi
  done
}

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  npm_deps
  exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
npm_deps
