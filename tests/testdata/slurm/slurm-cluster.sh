#!/usr/bin/env bash
# slurm-cluster.sh - a throwaway Slurm 22.05 cluster (2 nodes x 2 fake H100s) for suanpan's
# integration tests. No systemd; everything lives under DIR; must run as root.
#
#   slurm-cluster.sh start DIR          config + start munged (if none runs), slurmctld, 2 slurmd,
#                                       slurmrestd; wait until both nodes are idle and REST answers;
#                                       write DIR/env.  On failure: print log tails, stop, exit 1.
#   slurm-cluster.sh stop DIR           cancel jobs, kill every process we started (pid files, then
#                                       slurmstepd/job processes by marker), verify. Safe to repeat.
#   slurm-cluster.sh kill-ctld DIR [SIG] stop slurmctld only (SIG default TERM; KILL = crash)
#   slurm-cluster.sh start-ctld DIR     start slurmctld again (state kept) and wait until it is up
#   slurmctld restart: slurm-cluster.sh restart-ctld DIR  (= kill-ctld TERM + start-ctld)
#   slurm-cluster.sh kill-node DIR NODE [SIG]  stop one slurmd (its running job steps live on)
#   slurm-cluster.sh start-node DIR NODE       start it again and wait until the node responds
#   slurm-cluster.sh status DIR         list our daemons and whether they are alive
#
# Needs the Debian 12 packages munge slurm-wlm slurm-client slurmrestd slurm-wlm-jwt-plugin
# (the last one holds auth_jwt.so; without it slurmctld dies "cannot find auth plugin for
# auth/jwt").
#
# Topology: two slurmd processes on this one host ("slurmd -D -N sp-n1|sp-n2"), each with its
# own NodeName ... NodeAddr=127.0.0.1 Port=, spool dir (%n), log and pid file. Debian's 22.05
# slurmd honours -N and the per-node Port= as it is, so no network namespaces are needed. Both
# nodes report hostname "vm" (the real one) to jobs; use $SLURMD_NODENAME to tell them apart.
#
# Ports (override the base with SP_SLURM_PORT_BASE, default 16817):
#   base   slurmctld      base+1 slurmd sp-n1      base+2 slurmd sp-n2      base+3 slurmrestd
#
# munged: its socket must stay at the default /run/munge/munge.socket.2 (every Slurm binary
# looks there), so a running munged is reused; otherwise we start one (pid recorded in
# /run/suanpan-slurm-munged.pid) and a later `stop` kills it once no Slurm daemon of any cluster
# is left on the host. A munged we did not start is never touched.
set -euo pipefail

PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

NODES=(sp-n1 sp-n2)
GPUS_PER_NODE=2
GPU_TYPE=h100
CPUS_PER_NODE=4          # oversubscribed on purpose; SlurmdParameters=config_overrides
MEM_PER_NODE=4096        # MiB
REST_USER=suanpan-slurm
API=v0.0.38
PORT_BASE=${SP_SLURM_PORT_BASE:-16817}
CTLD_PORT=$PORT_BASE
REST_PORT=$((PORT_BASE + 3))
START_TIMEOUT=${SP_SLURM_START_TIMEOUT:-30}
STOP_TIMEOUT=${SP_SLURM_STOP_TIMEOUT:-10}

die() { echo "slurm-cluster: $*" >&2; exit 1; }
log() { echo "slurm-cluster: $*" >&2; }

usage() { die "usage: $0 start|stop|restart-ctld|kill-ctld|start-ctld|kill-node|start-node|status DIR [ARGS]"; }

[[ $# -ge 2 ]] || usage
CMD=$1
DIR=$2
[[ $DIR == /* ]] || DIR=$PWD/$DIR
DIR=${DIR%/}
CONF=$DIR/slurm.conf
RUN=$DIR/run
LOGD=$DIR/log
MARKER="SUANPAN_SLURM_DIR=$DIR"

node_port() { echo $((PORT_BASE + 1 + $1)); }

# --- process helpers ---------------------------------------------------------------------------
alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }
pid_of() { [[ -s $RUN/$1.pid ]] && cat "$RUN/$1.pid" || true; }

# spawn NAME LOG CMD...: run CMD detached (new session, stdio on LOG), record its pid in RUN/NAME.pid.
# The daemons run in the foreground (-D) so $! is the daemon itself; setsid does not fork here
# because a background job of a non-interactive shell is not a process-group leader.
spawn() {
    local name=$1 logf=$2
    shift 2
    setsid env -i PATH="$PATH" SLURM_CONF="$CONF" "$MARKER" "$@" </dev/null >>"$logf" 2>&1 9>&- &
    echo $! >"$RUN/$name.pid"
}

# terminate [-s SIG] NAME...: signal the pids in RUN/NAME.pid all at once (each daemon takes ~2 s
# to exit on TERM), wait, escalate to KILL after STOP_TIMEOUT s, remove the pid files.
terminate() {
    local sig=TERM name pid i left=0
    if [[ $1 == -s ]]; then sig=$2; shift 2; fi
    local -a pids=()
    for name in "$@"; do
        pid=$(pid_of "$name")
        alive "$pid" && { kill -s "$sig" "$pid" 2>/dev/null || true; pids+=("$pid"); }
    done
    for ((i = 0; i < STOP_TIMEOUT * 20; i++)); do
        left=0
        for pid in "${pids[@]}"; do alive "$pid" && left=1; done
        ((left)) || break
        sleep 0.05
    done
    for pid in "${pids[@]}"; do
        if alive "$pid"; then
            log "pid $pid ($(tr '\0' ' ' 2>/dev/null </proc/"$pid"/cmdline)) ignored SIG$sig for ${STOP_TIMEOUT}s, sending KILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    for ((i = 0; i < 50; i++)); do
        left=0
        for pid in "${pids[@]}"; do alive "$pid" && left=1; done
        ((left)) || break
        sleep 0.1
    done
    for name in "$@"; do rm -f "$RUN/$name.pid"; done
    ((left == 0))
}

# Processes carrying our marker in their environment: the daemons and the slurmstepds they fork.
marked_pids() {
    local p
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [[ $p == "$$" || $p == "$BASHPID" ]] && continue
        tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" | grep -qxF "$MARKER" && echo "$p"
    done
    return 0
}

# descendants PID...: the given pids and all their descendants (job tasks are children of stepd).
descendants() {
    local -A kids=()
    local pid ppid out=() queue=("$@")
    while read -r pid ppid; do kids[$ppid]+="$pid "; done < <(ps -e -o pid=,ppid=)
    while ((${#queue[@]})); do
        pid=${queue[0]}
        queue=("${queue[@]:1}")
        out+=("$pid")
        # shellcheck disable=SC2206
        [[ -n ${kids[$pid]:-} ]] && queue+=(${kids[$pid]})
    done
    echo "${out[@]}"
}

sl() { SLURM_CONF=$CONF timeout "${2:-5}" bash -c "$1" 2>/dev/null; }

# --- munge -------------------------------------------------------------------------------------
# One munged serves every cluster on the host (its socket path is fixed). Whichever of our
# clusters started it records that in MUNGE_OWNED; the `stop` that finds no Slurm daemon left on
# the host (ours or anyone's) kills it. MUNGE_LOCK serialises that decision against a `start`.
MUNGE_OWNED=/run/suanpan-slurm-munged.pid
MUNGE_LOCK=/run/suanpan-slurm-munge.lock

munge_ok() { timeout 5 munge -n </dev/null 2>/dev/null | timeout 5 unmunge >/dev/null 2>&1; }

munge_lock() { exec 9>>"$MUNGE_LOCK"; flock -w 60 9 || die "cannot lock $MUNGE_LOCK"; }
munge_unlock() { exec 9>&-; }

ensure_munge() {
    munge_ok && return 0
    if [[ ! -s /etc/munge/munge.key ]]; then
        install -d -o munge -g munge -m 0700 /etc/munge
        mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null ||
            dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
    # munged refuses a socket directory without o+x (FIELD-NOTES pitfall 6)
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
    setpriv --reuid=munge --regid=munge --clear-groups /usr/sbin/munged --force \
        </dev/null >>"$LOGD/munged.out" 2>&1 9>&- || die "munged failed to start: $(tail -n 5 "$LOGD/munged.out" /var/log/munge/munged.log 2>&1)"
    local i
    for ((i = 0; i < 50; i++)); do munge_ok && break; sleep 0.1; done
    munge_ok || die "munged does not answer"
    cp /run/munge/munged.pid "$MUNGE_OWNED"
}

# stop_munge_if_unused: kill the munged one of our clusters started, unless a Slurm daemon
# (any cluster's) still runs on this host.
stop_munge_if_unused() {
    local pid others
    munge_lock
    pid=$(cat "$MUNGE_OWNED" 2>/dev/null || true)
    if alive "$pid" && grep -q munged "/proc/$pid/cmdline" 2>/dev/null; then
        others=$(ps -e -o pid=,comm= | awk '$2 ~ /^(slurmctld|slurmd|slurmstepd|slurmrestd)$/ {print $1}' | tr '\n' ' ')
        if [[ -n $others ]]; then
            log "leaving munged (pid $pid) running: other Slurm daemons use it (pids $others)"
        else
            kill -TERM "$pid" 2>/dev/null || true
            local i
            for ((i = 0; i < STOP_TIMEOUT * 20; i++)); do alive "$pid" || break; sleep 0.05; done
            alive "$pid" && kill -KILL "$pid" 2>/dev/null
            rm -f "$MUNGE_OWNED"
        fi
    else
        rm -f "$MUNGE_OWNED"
    fi
    munge_unlock
}

# --- configuration -----------------------------------------------------------------------------
write_config() {
    local host i n
    host=$(hostname -s)
    install -d -m 0755 "$DIR" "$RUN" "$LOGD" "$DIR/dev"
    install -d -m 0700 "$DIR/state"
    chmod 0755 "$DIR" # slurmrestd runs as $REST_USER and must read slurm.conf
    for n in "${NODES[@]}"; do
        install -d -m 0755 "$DIR/spool/$n" "$DIR/dev/$n"
        for ((i = 0; i < GPUS_PER_NODE; i++)); do ln -sfn /dev/null "$DIR/dev/$n/nvidia$i"; done
    done
    if [[ ! -s $DIR/jwt_hs256.key ]]; then
        (umask 077 && dd if=/dev/urandom of="$DIR/jwt_hs256.key" bs=32 count=1 status=none)
    fi
    chmod 0600 "$DIR/jwt_hs256.key"

    cat >"$CONF.tmp" <<EOF
# generated by slurm-cluster.sh; do not edit
ClusterName=suanpan
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$CTLD_PORT
SlurmdPort=$(node_port 0)
AuthType=auth/munge
CredType=cred/munge
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$DIR/jwt_hs256.key
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/%n
SlurmctldPidFile=$RUN/slurmctld.selfpid
SlurmdPidFile=$RUN/slurmd-%n.selfpid
SlurmctldLogFile=$LOGD/slurmctld.log
SlurmdLogFile=$LOGD/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
GresTypes=gpu
SlurmdParameters=config_overrides
DefMemPerCPU=100
MinJobAge=600
ReturnToService=2
SlurmctldTimeout=10
SlurmdTimeout=10
MessageTimeout=10
InactiveLimit=0
KillWait=2
WaitTime=0
TmpFS=/tmp
MailProg=/bin/true
# schedule a batch job as soon as it is submitted (the default batch_sched_delay=3 runs the
# scheduler for sbatch'ed jobs only every 3 s)
SchedulerParameters=batch_sched_delay=0,sched_min_interval=100000
# refuse at submit what the partitions can never run (else e.g. --nodes=3 pends forever on
# PartitionNodeLimit)
EnforcePartLimits=ALL
EOF
    for i in "${!NODES[@]}"; do
        echo "NodeName=${NODES[$i]} NodeHostname=$host NodeAddr=127.0.0.1 Port=$(node_port "$i") CPUs=$CPUS_PER_NODE RealMemory=$MEM_PER_NODE Gres=gpu:$GPU_TYPE:$GPUS_PER_NODE State=UNKNOWN" >>"$CONF.tmp"
    done
    local all
    all=$(IFS=,; echo "${NODES[*]}")
    cat >>"$CONF.tmp" <<EOF
PartitionName=gpu Nodes=$all Default=YES MaxTime=INFINITE State=UP
PartitionName=debug Nodes=$all Default=NO MaxTime=INFINITE State=UP
EOF
    mv "$CONF.tmp" "$CONF"

    : >"$DIR/gres.conf.tmp"
    for n in "${NODES[@]}"; do
        echo "NodeName=$n Name=gpu Type=$GPU_TYPE File=$DIR/dev/$n/nvidia[0-$((GPUS_PER_NODE - 1))]" >>"$DIR/gres.conf.tmp"
    done
    mv "$DIR/gres.conf.tmp" "$DIR/gres.conf"
    chmod 0644 "$CONF" "$DIR/gres.conf"
}

ensure_rest_user() {
    id -u "$REST_USER" >/dev/null 2>&1 && return 0
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
        --user-group "$REST_USER" 2>/dev/null || id -u "$REST_USER" >/dev/null 2>&1 ||
        die "cannot create user $REST_USER"
}

# --- daemons -----------------------------------------------------------------------------------
# spawn_ctld [-R]: -R (start-ctld) also recovers node and partition state, so the nodes are idle
# at once instead of "unknown" for ~4 s until they re-register. Jobs are recovered either way.
spawn_ctld() { spawn slurmctld "$LOGD/slurmctld.out" slurmctld -D "$@" -f "$CONF"; }

spawn_slurmd() { spawn "slurmd-$1" "$LOGD/slurmd-$1.out" slurmd -D -N "$1" -f "$CONF"; }

ctld_up() { sl "scontrol ping" 5 | grep -q 'is UP'; }

# nodes_state: "sp-n1 idle" lines (sinfo appends * for not responding, ~ for powered down, etc.)
nodes_state() { sl "sinfo -h -N -o '%N %T'" 5 | sort -u; }

nodes_ready() {
    local s n
    s=$(nodes_state) || return 1
    for n in "${NODES[@]}"; do
        grep -Eq "^$n (idle|mixed|allocated|completing)$" <<<"$s" || return 1
    done
}

rest_ok() {
    local tok=$1
    [[ $(timeout 5 curl -s -o /dev/null -w '%{http_code}' \
        -H "X-SLURM-USER-NAME: root" -H "X-SLURM-USER-TOKEN: $tok" \
        "http://127.0.0.1:$REST_PORT/slurm/$API/ping" 2>/dev/null) == 200 ]]
}

dump_logs() {
    local f
    for f in "$LOGD"/*; do
        [[ -f $f ]] || continue
        # a daemon's stderr (.out) repeats its log file; show it only when there is no log
        [[ $f == *.out && -s ${f%.out}.log ]] && continue
        echo "===== $f (tail) =====" >&2
        tail -n 25 "$f" >&2 || true
    done
    echo "===== sinfo =====" >&2
    sl "sinfo -N -l" 3 >&2 || true
}

# fail_start MSG: print the logs; `start` also tears down what it started (STOP_ON_FAIL=1).
STOP_ON_FAIL=0
fail_start() {
    log "$CMD failed: $*"
    dump_logs
    ((STOP_ON_FAIL)) && { do_stop || true; }
    exit 1
}

# wait_for DESC CMD...: poll CMD until it succeeds or the deadline passes; give up at once if
# one of the daemons started so far has died.
wait_for() {
    local what=$1 n
    shift
    while ! "$@"; do
        ((SECONDS < DEADLINE)) || fail_start "timed out after ${START_TIMEOUT}s waiting for $what"
        for n in slurmctld slurmrestd "${NODES[@]/#/slurmd-}"; do
            [[ -f $RUN/$n.pid ]] || continue
            alive "$(pid_of "$n")" || fail_start "$n died while waiting for $what"
        done
        sleep 0.2
    done
}

do_start() {
    [[ $(id -u) -eq 0 ]] || die "must run as root"
    local pid n i tok
    for n in slurmctld slurmrestd "${NODES[@]/#/slurmd-}"; do
        pid=$(pid_of "$n")
        alive "$pid" && die "$n already running (pid $pid) for $DIR; stop it first"
    done
    SECONDS=0
    DEADLINE=$START_TIMEOUT
    STOP_ON_FAIL=1
    write_config
    ensure_rest_user
    munge_lock # until our slurmctld runs, so that a concurrent `stop` leaves munged alone
    ensure_munge
    spawn_ctld
    wait_for "slurmctld" ctld_up
    munge_unlock
    for i in "${!NODES[@]}"; do
        n=${NODES[$i]}
        spawn_slurmd "$n"
    done

    tok=$(sl "scontrol token username=root lifespan=86400" 10 | sed -n 's/^SLURM_JWT=//p')
    [[ -n $tok ]] || fail_start "scontrol token failed"
    # slurmrestd refuses root; it needs SLURM_JWT=daemon for rest_auth/jwt and -s openapi/v0.0.38
    # without slurmdbd (FIELD-NOTES pitfalls 2-4).
    spawn slurmrestd "$LOGD/slurmrestd.log" \
        setpriv --reuid="$REST_USER" --regid="$REST_USER" --init-groups \
        env SLURM_JWT=daemon slurmrestd -a rest_auth/jwt -s "openapi/$API" "127.0.0.1:$REST_PORT"

    wait_for "nodes ${NODES[*]} to be idle" nodes_ready
    wait_for "slurmrestd on port $REST_PORT" rest_ok "$tok"
    for n in slurmctld slurmrestd "${NODES[@]/#/slurmd-}"; do
        alive "$(pid_of "$n")" || fail_start "$n died"
    done

    # Only SLURM_CONF is meant for Slurm itself; the rest is prefixed SP_ because srun/sbatch read
    # input variables such as SLURM_PARTITION and SLURM_GPUS_PER_NODE from the environment.
    {
        echo "SLURM_CONF=$CONF"
        echo "SLURMRESTD_URL=http://127.0.0.1:$REST_PORT"
        echo "SLURM_JWT_TOKEN=$tok"
        echo "SP_SLURM_JWT_USER=root"
        echo "SP_SLURM_REST_API=$API"
        echo "SP_SLURM_NODES=$(IFS=,; echo "${NODES[*]}")"
        for i in "${!NODES[@]}"; do echo "SP_SLURM_NODE_$((i + 1))=${NODES[$i]}"; done
        echo "SP_SLURM_PARTITION=gpu"
        echo "SP_SLURM_PARTITIONS=gpu,debug"
        echo "SP_SLURM_GPU_TYPE=$GPU_TYPE"
        echo "SP_SLURM_GPUS_PER_NODE=$GPUS_PER_NODE"
        echo "SP_SLURM_CPUS_PER_NODE=$CPUS_PER_NODE"
        echo "SP_SLURM_MEM_PER_NODE_MB=$MEM_PER_NODE"
        echo "SP_SLURMCTLD_PORT=$CTLD_PORT"
        echo "SP_SLURM_REST_USER=$REST_USER"
    } >"$DIR/env.tmp"
    mv "$DIR/env.tmp" "$DIR/env"
    log "up in ${SECONDS}s: $(nodes_state | tr '\n' ' ')rest=127.0.0.1:$REST_PORT"
}

do_stop() {
    [[ -d $DIR ]] || return 0
    [[ -d $RUN ]] || return 0
    local n pid pids rc=0 i
    # 1. cancel jobs so the slurmstepds end their tasks themselves
    if alive "$(pid_of slurmctld)" && [[ -f $CONF ]]; then
        pids=$(sl "squeue -h -t PD,R,CG,S -o %A" 5 || true)
        if [[ -n $pids ]]; then
            # shellcheck disable=SC2086
            sl "scancel $(echo $pids)" 10 || true
            for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
                [[ -z $(sl "squeue -h -t R,CG -o %A" 5 || true) ]] && break
                sleep 0.1
            done
        fi
    fi
    # 2. daemons, by pid file
    terminate slurmrestd "${NODES[@]/#/slurmd-}" slurmctld || rc=1
    # 3. leftovers: slurmstepd (marked env) and everything below them
    pids=$(marked_pids)
    if [[ -n $pids ]]; then
        # shellcheck disable=SC2086
        pids=$(descendants $pids)
        log "killing leftover processes: $pids"
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            n=0
            for pid in $pids; do alive "$pid" && n=1; done
            ((n)) || break
            sleep 0.1
        done
    fi
    # 4. munged, if one of our clusters started it and no Slurm daemon is left on the host
    stop_munge_if_unused
    # 5. verify
    pids=$(marked_pids)
    if [[ -n $pids ]]; then
        log "still alive after stop: $pids"
        ps -o pid,ppid,cmd -p "$(echo $pids | tr ' ' ,)" >&2 || true
        rc=1
    fi
    rm -f "$RUN"/*.selfpid
    return $rc
}

do_kill_ctld() {
    terminate -s "${1:-TERM}" slurmctld
}

do_start_ctld() {
    alive "$(pid_of slurmctld)" && { log "slurmctld already running"; return 0; }
    SECONDS=0
    DEADLINE=$START_TIMEOUT
    spawn_ctld -R
    wait_for "slurmctld" ctld_up
    wait_for "nodes ${NODES[*]} to respond" nodes_ready
    log "slurmctld up in ${SECONDS}s"
}

check_node() {
    local n
    for n in "${NODES[@]}"; do [[ $n == "${1:-}" ]] && return 0; done
    die "unknown node '${1:-}' (nodes: ${NODES[*]})"
}

do_kill_node() {
    check_node "$1"
    terminate -s "${2:-TERM}" "slurmd-$1"
}

do_start_node() {
    check_node "$1"
    alive "$(pid_of "slurmd-$1")" && { log "slurmd-$1 already running"; return 0; }
    SECONDS=0
    DEADLINE=$START_TIMEOUT
    spawn_slurmd "$1"
    wait_for "node $1 to respond" nodes_ready
    log "slurmd-$1 up in ${SECONDS}s"
}

do_status() {
    local n pid rc=0
    munge_ok && echo "munged $(cat /run/munge/munged.pid 2>/dev/null) running" || echo "munged - stopped"
    for n in slurmctld "${NODES[@]/#/slurmd-}" slurmrestd; do
        pid=$(pid_of "$n")
        if alive "$pid"; then echo "$n $pid running"; else echo "$n ${pid:--} stopped"; rc=1; fi
    done
    return $rc
}

case $CMD in
start) do_start ;;
stop) do_stop ;;
kill-ctld) do_kill_ctld "${3:-TERM}" ;;
start-ctld) do_start_ctld ;;
restart-ctld) do_kill_ctld TERM && do_start_ctld ;;
kill-node) do_kill_node "${3:-}" "${4:-TERM}" ;;
start-node) do_start_node "${3:-}" ;;
status) do_status ;;
*) usage ;;
esac
