#!/usr/bin/env bash
# The vfsgw benchmark suite: every target measured side by side in the same run, in interleaved
# rounds, medians and ratios reported as one markdown document.
#
# Usage: bench/run.sh [host|guest|startup|all] [--quick] [--rounds N]
#   host   vfsgw (mem) on /dev/fuse vs kernel tmpfs (the ceiling) vs libfuse's C passthrough
#          example over tmpfs (the FUSE reference); and vfsgw's posix backend mounted on the host
#          vs its raw source directory (sequential only)
#   guest  one QEMU (TCG) boot with five shares mounted at once: vfsgw mem, vfsgw posix,
#          virtiofsd (cache=auto), virtio-9p (msize 512000, cache=none) and vfsgw mem with
#          --cache none (direct I/O: 9p's caching contract); ratios to virtiofsd and to 9p;
#          every virtio-fs device has queue-size=1024 (run-guest.sh's default); also reports
#          each server's CPU over the boot (bench/cpuwatch.py)
#   startup  time from exec to a listening vhost-user socket: the launcher, the jar without the
#          launcher's class-data archive, and virtiofsd (bench/startup.py, 10 rounds)
#   all    host, guest and startup (default)
#   --quick   small sizes and one round: a smoke run of the script itself, not a measurement
#   --rounds N  rounds per target (default 5; the guest runs one more, unreported, to warm up)
# Each round runs, per target: fio psync sequential write (end_fsync) and, after dropping caches,
# sequential read of one file in 1 MiB blocks; random 4 KiB reads of it (cold, size and time
# bounded); create+stat+unlink of many empty files (bench/metaops.c); and in the guest a source
# tree's life: tar x of /usr/include/linux (or $BENCH_TREE), du -s of it cold, rm -rf of it cold
# (entries per second, timed by bench/stopwatch.c). The guest runs each workload
# on all shares back to back (rotating which goes first), and one more, untimed round first
# (round 0) on every share: reported figures are of warmed-up daemons.
# Needs root (mounts, drop_caches), fio, gcc, libfuse3-dev, python3, qemu, and cli/target/vfsgw.jar
# (built when missing). Output: stdout and bench/results/<date>.md (--quick: only $RUN); raw fio JSON stays in
# $BENCH_WORK (default /var/tmp/vfsgw-bench). VFSGW_JAVA_OPTS is passed to the vfsgw JVMs.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
JAR=$ROOT/cli/target/vfsgw.jar
BUILD=$HERE/.build
MODE=all QUICK=0 ROUNDS=5
while [ $# -gt 0 ]; do
    case "$1" in
        host|guest|startup|all) MODE=$1 ;;
        --quick) QUICK=1 ;;
        --rounds) ROUNDS=$2; shift ;;
        -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
        *) echo "bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

if [ "$QUICK" = 1 ]; then
    ROUNDS=1
    H_SIZE=64M H_RAND_IO=8M H_RAND_T=3 H_META=1000
    G_SIZE=32M G_RAND_IO=4M G_RAND_T=3 G_META=200
else
    H_SIZE=1G H_RAND_IO=128M H_RAND_T=10 H_META=10000
    G_SIZE=256M G_RAND_IO=16M G_RAND_T=10 G_META=2000
fi
# The guest's tree workload unpacks, walks and removes this directory (as a tarball in guest RAM).
TREE_SRC=${BENCH_TREE:-/usr/include/linux}

log() { echo "bench: $*" >&2; }
die() { echo "bench: ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (mounts, drop_caches)"
for tool in fio gcc python3 pkg-config mountpoint; do
    command -v "$tool" >/dev/null || die "$tool not found"
done

WORK=${BENCH_WORK:-/var/tmp/vfsgw-bench}
STAMP=$(date -u +%Y-%m-%d-%H%M)
RUN=$WORK/run-$STAMP
mkdir -p "$RUN" "$BUILD" "$HERE/results"

# --- cleanup: only what this script mounted and started ----------------------------------------
MOUNTS=() PIDS=()
cleanup() {
    set +e
    local i
    # FUSE mounts first (their daemons then exit), then the servers, then what they had open.
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
        mountpoint -q "${MOUNTS[i]}" && umount "${MOUNTS[i]}" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
        mountpoint -q "${MOUNTS[i]}" && { umount "${MOUNTS[i]}" || umount -l "${MOUNTS[i]}"; }
    done
    MOUNTS=() PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for DESCRIPTION SECONDS CMD...: polls CMD until it succeeds or the deadline passes.
wait_for() {
    local what=$1 deadline=$((SECONDS + $2))
    shift 2
    until "$@"; do
        [ $SECONDS -lt $deadline ] || die "timed out waiting for $what"
        sleep 0.2
    done
}

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }

build_tools() {
    [ -f "$JAR" ] || (cd "$ROOT" && mvn -q -o install -DskipTests) || die "could not build $JAR"
    gcc -O2 -Wall -o "$BUILD/metaops" "$HERE/metaops.c"
    gcc -O2 -Wall -static -o "$BUILD/metaops-static" "$HERE/metaops.c"
    gcc -O2 -Wall -static -o "$BUILD/stopwatch-static" "$HERE/stopwatch.c"
    local ex=/usr/share/doc/libfuse3-dev/examples
    [ -f $ex/passthrough.c ] || die "$ex/passthrough.c missing: apt-get install libfuse3-dev"
    cp $ex/passthrough.c $ex/passthrough_helpers.h "$BUILD/"
    # libfuse 3.14 turns splice reads on by default and its high-level API takes no -o option to
    # turn them off: clear them in the example's init, so both FUSE engines copy through user
    # space. (3.14 has no kernel passthrough to turn off.)
    grep -q '(void) conn;' "$BUILD/passthrough.c" || die "passthrough.c changed: cannot disable splice"
    sed -i 's/(void) conn;/conn->want \&= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);/' \
        "$BUILD/passthrough.c"
    # shellcheck disable=SC2046
    (cd "$BUILD" && gcc -Wall passthrough.c $(pkg-config fuse3 --cflags --libs) -o passthrough)
}

# vfsgw ARGS...: starts vfsgw through the launcher (its JVM options are part of what is measured)
# in the background, logging to $RUN; sets LAST_PID.
vfsgw() {
    "$ROOT/vfsgw" "$@" >>"$RUN/vfsgw.log" 2>&1 &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
}

# fio_job OUT ARGS...: one fio job, JSON result in OUT.
fio_job() {
    local out=$1
    shift
    fio --name=bench --ioengine=psync --direct=0 --output-format=json --output="$out" "$@" >/dev/null \
        || log "fio failed: $out"
}

# host_round TARGET DIR ROUND SEQ_ONLY: one round of every workload on one host target.
host_round() {
    local t=$1 d=$2 r=$3 seq_only=$4 out=$RUN/$5 f=$2/bench.dat
    log "round $r: $t"
    rm -f "$f"
    fio_job "$out/$t.seqwrite.$r.json" --filename="$f" --rw=write --bs=1M --size="$H_SIZE" --end_fsync=1
    drop_caches
    fio_job "$out/$t.seqread.$r.json" --filename="$f" --rw=read --bs=1M --size="$H_SIZE"
    if [ "$seq_only" = 0 ]; then
        drop_caches
        fio_job "$out/$t.randread.$r.json" --filename="$f" --rw=randread --bs=4k --size="$H_SIZE" \
            --io_size="$H_RAND_IO" --runtime="$H_RAND_T"
        rm -rf "$d/meta" && mkdir "$d/meta"
        "$BUILD/metaops" "$d/meta" "$H_META" 30 >"$out/$t.meta.$r.txt" 2>&1 || log "metaops failed on $t"
        rmdir "$d/meta" 2>/dev/null || true
    fi
    rm -f "$f"
}

run_host() {
    local H=$WORK/host
    mkdir -p "$RUN/host" "$RUN/posix" "$H"/{tmpfs,vfsgw,ptsrc,pt,posixsrc,posix}
    mount -t tmpfs -o size=3G bench-tmpfs "$H/tmpfs"; MOUNTS+=("$H/tmpfs")
    mount -t tmpfs -o size=3G bench-ptsrc "$H/ptsrc"; MOUNTS+=("$H/ptsrc")
    vfsgw mount "$H/vfsgw" --mem-size 4G; MOUNTS+=("$H/vfsgw")
    # libfuse's high-level passthrough mirrors / at the mount point (default multi-threaded loop).
    "$BUILD/passthrough" -f "$H/pt" \
        >>"$RUN/passthrough.log" 2>&1 &
    PIDS+=($!); MOUNTS+=("$H/pt")
    # The posix source lives on the host disk (under $WORK), as a posix share would.
    find "$H/posixsrc" -mindepth 1 -delete
    vfsgw mount "$H/posix" --backend posix --source "$H/posixsrc"; MOUNTS+=("$H/posix")
    wait_for "vfsgw mem mount" 120 mountpoint -q "$H/vfsgw"
    wait_for "passthrough mount" 30 mountpoint -q "$H/pt"
    wait_for "vfsgw posix mount" 120 mountpoint -q "$H/posix"

    local r
    for ((r = 1; r <= ROUNDS; r++)); do
        host_round tmpfs "$H/tmpfs" "$r" 0 host
        host_round vfsgw-mem "$H/vfsgw" "$r" 0 host
        host_round passthrough "$H/pt$H/ptsrc" "$r" 0 host
        host_round raw "$H/posixsrc" "$r" 1 posix
        host_round vfsgw-posix "$H/posix" "$r" 1 posix
    done
    cleanup
}

# The guest script: runs every workload on every share, round by round, and copies the results
# into the virtiofsd share after each round (the host reads them from there).
guest_script() {
    cat <<EOF
R=$ROUNDS SIZE=$G_SIZE RIO=$G_RAND_IO RT=$G_RAND_T META=$G_META TREE_N=$TREE_N
EOF
    cat <<'EOF'
cp /vfsd/.bench/metaops /vfsd/.bench/stopwatch /vfsd/.bench/tree.tar /tmp/
mkdir -p /tmp/res /tmp/warm
# Every share's interrupts, and the benchmark itself, on vCPU 0. Otherwise each device's vectors
# sit on whichever vCPU the guest chose when it set them up, and a share whose interrupts arrive
# on the other vCPU pays a cross-CPU wake-up inside the guest on every request: that alone moved
# two identical vfsgw daemons in one boot 0.73x and 1.02x apart. Pinned, they land within 0.1x.
for irq in $(grep virtio /proc/interrupts | cut -d: -f1); do echo 1 > /proc/irq/$irq/smp_affinity; done
taskset -p 1 $$ >/dev/null
job() { out=$1; shift; fio --name=bench --ioengine=psync --direct=0 --output-format=json --output="$out" "$@" >/dev/null || echo "bench: fio failed: $out"; }
dropc() { sync; echo 3 > /proc/sys/vm/drop_caches; }
# Round 0 warms every share up and is not reported: the daemons serve VMs for days, so their
# steady state is what counts (vfsgw's JIT compiles its hot paths in the first round; all of them
# map the guest's memory page by page the first time they touch it).
# Within a round each workload runs on every share back to back, so the measurements a ratio
# compares are seconds apart: the machine is shared, and a slow minute then slows every share
# alike instead of one share's whole round.
SHARES="virtiofsd:/vfsd vfsgw-mem:/mnt vfsgw-posix:/vposix 9p:/p9 vfsgw-direct:/vdirect"
# Prints the shares, rotated by $1 places: each round starts with the next share in turn.
rotated() {
    k=$1; set -- $SHARES
    k=$((k % $#)); while [ $k -gt 0 ]; do first=$1; shift; set -- "$@" "$first"; k=$((k - 1)); done
    echo "$@"
}
r=0
while [ $r -le $R ]; do
    res=/tmp/res; [ $r -eq 0 ] && res=/tmp/warm
    order=$(rotated $r)
    echo "bench: guest round $r$([ $r -eq 0 ] && echo ' (warm-up, not reported)'): $order"
    for spec in $order; do
        t=${spec%%:*} f=${spec#*:}/bench.dat
        rm -f "$f"; dropc
        job $res/$t.seqwrite.$r.json --filename="$f" --rw=write --bs=1M --size=$SIZE --end_fsync=1
    done
    for spec in $order; do
        t=${spec%%:*} f=${spec#*:}/bench.dat
        dropc
        job $res/$t.seqread.$r.json --filename="$f" --rw=read --bs=1M --size=$SIZE
    done
    for spec in $order; do
        t=${spec%%:*} f=${spec#*:}/bench.dat
        dropc
        job $res/$t.randread.$r.json --filename="$f" --rw=randread --bs=4k --size=$SIZE --io_size=$RIO --runtime=$RT
    done
    for spec in $order; do
        t=${spec%%:*} d=${spec#*:}
        rm -f "$d/bench.dat"; rm -rf "$d/meta"; mkdir "$d/meta"
        /tmp/metaops "$d/meta" $META 20 > $res/$t.meta.$r.txt 2>&1 || echo "bench: metaops failed on $t"
        rmdir "$d/meta"
    done
    # A source tree's life: unpacked (from guest RAM), walked cold, removed cold.
    for spec in $order; do
        t=${spec%%:*} d=${spec#*:}
        rm -rf "$d/tree"; mkdir "$d/tree"; dropc
        /tmp/stopwatch $TREE_N tar xf /tmp/tree.tar -C "$d/tree" > $res/$t.treex.$r.txt 2>&1 || echo "bench: tar x failed on $t"
    done
    for spec in $order; do
        t=${spec%%:*} d=${spec#*:}
        dropc
        /tmp/stopwatch $TREE_N du -s "$d/tree" > $res/$t.treedu.$r.txt 2>&1 || echo "bench: du failed on $t"
    done
    for spec in $order; do
        t=${spec%%:*} d=${spec#*:}
        dropc
        /tmp/stopwatch $TREE_N rm -rf "$d/tree" > $res/$t.treerm.$r.txt 2>&1 || echo "bench: rm -rf failed on $t"
    done
    [ $r -gt 0 ] && mkdir -p /vfsd/.bench/res && cp /tmp/res/* /vfsd/.bench/res/
    r=$((r + 1))
done
vfsgw_result bench ok "rounds=$R"
EOF
}

run_guest() {
    local G=$WORK/guest
    mkdir -p "$RUN/guest" "$G/fs"
    # All host-side directories on one tmpfs: the transports differ, the storage does not.
    mount -t tmpfs -o size=4G bench-guest "$G/fs"; MOUNTS+=("$G/fs")
    mkdir -p "$G/fs"/{posix,vfsd/.bench,p9}
    cp "$BUILD/metaops-static" "$G/fs/vfsd/.bench/metaops"
    cp "$BUILD/stopwatch-static" "$G/fs/vfsd/.bench/stopwatch"
    tar cf "$G/fs/vfsd/.bench/tree.tar" -C "$(dirname "$TREE_SRC")" "$(basename "$TREE_SRC")"
    TREE_N=$(tar tf "$G/fs/vfsd/.bench/tree.tar" | wc -l)
    rm -f "$G"/*.sock
    local -A SERVER=()   # target -> pid, for the CPU each one used
    vfsgw serve --socket-path "$G/mem.sock" --tag vfsgw --mem-size 2G
    SERVER[vfsgw-mem]=$LAST_PID
    vfsgw serve --socket-path "$G/posix.sock" --tag vposix --backend posix --source "$G/fs/posix"
    SERVER[vfsgw-posix]=$LAST_PID
    # 9p runs with cache=none: the guest hands user pages straight to the transport. The same
    # contract for vfsgw is --cache none (FOPEN_DIRECT_IO), which this share measures.
    vfsgw serve --socket-path "$G/direct.sock" --tag vdirect --mem-size 2G --cache none
    SERVER[vfsgw-direct]=$LAST_PID
    /usr/lib/qemu/virtiofsd --socket-path="$G/vfsd.sock" -o source="$G/fs/vfsd" -o cache=auto \
        >>"$RUN/virtiofsd.log" 2>&1 &
    PIDS+=($!)
    SERVER[virtiofsd]=$!
    wait_for "vfsgw sockets" 120 test -S "$G/mem.sock" -a -S "$G/posix.sock" -a -S "$G/direct.sock" \
        -a -S "$G/vfsd.sock"
    guest_script >"$G/script.sh"
    local watch=() t
    for t in "${!SERVER[@]}"; do watch+=("$t=${SERVER[$t]}"); done
    python3 "$HERE/cpuwatch.py" "$RUN/guest/cpu.txt" "${watch[@]}" &
    local watcher=$!
    PIDS+=("$watcher")
    log "booting the guest (TCG; progress below)"
    local rc=0
    timeout 1800 "$ROOT/testing/guest/run-guest.sh" --fio --mem 2048 --socket "$G/mem.sock" --tag vfsgw \
        --fs "$G/posix.sock:vposix:/vposix" --fs "$G/direct.sock:vdirect:/vdirect" \
        --fs "$G/vfsd.sock:vfsd:/vfsd" --9p "$G/fs/p9:p9:/p9" \
        --script "$G/script.sh" </dev/null 2>&1 | tee "$RUN/guest-console.log" \
        | grep --line-buffered -E '^bench:|VFSGW-(RESULT|DONE)' >&2 || rc=$?
    grep -q 'VFSGW-RESULT bench ok' "$RUN/guest-console.log" || log "guest run incomplete (rc=$rc): see $RUN/guest-console.log"
    cp "$G/fs/vfsd/.bench/res/"* "$RUN/guest/" 2>/dev/null || log "no guest results"
    # Each server works only when its share is measured, so its CPU over the boot is its cost for
    # the same workload (9p is served inside QEMU and cannot be told apart).
    kill -TERM "$watcher" && wait "$watcher" || log "no server CPU figures"
    cleanup
}

machine() {
    echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/Mem:/{print $2}') GiB RAM, kernel $(uname -r)"
    echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared)"
    echo "- $(fio --version), $(java -version 2>&1 | head -1), libfuse $(pkg-config --modversion fuse3), $(qemu-system-x86_64 --version | head -1)"
}

build_tools
{
    echo "## vfsgw benchmarks, $STAMP (UTC)"
    echo
    echo "\`bench/run.sh $MODE$([ "$QUICK" = 1 ] && echo ' --quick')\`: $ROUNDS round(s);" \
         "host: $H_SIZE file, random reads $H_RAND_IO or ${H_RAND_T}s, $H_META files;" \
         "guest: $G_SIZE file, random reads $G_RAND_IO or ${G_RAND_T}s, $G_META files, tree $TREE_SRC."
    echo
    machine
    echo
} >"$RUN/header.md"
T0=$SECONDS
run_startup() {
    log "start-up to a listening socket"
    python3 "$HERE/startup.py" "$([ "$QUICK" = 1 ] && echo 2 || echo 10)" >"$RUN/startup.md"
}
case "$MODE" in
    host) run_host ;;
    guest) run_guest ;;
    startup) run_startup ;;
    all) run_host; run_guest; run_startup ;;
esac
log "measured in $((SECONDS - T0)) s"
OUT=$HERE/results/$STAMP.md
[ "$QUICK" = 1 ] && OUT=$RUN/report.md   # smoke runs are not results
{
    cat "$RUN/header.md"; echo "- wall time: $((SECONDS - T0)) s"; echo
    [ "$MODE" = startup ] || python3 "$HERE/report.py" "$RUN"
    [ -f "$RUN/startup.md" ] && { echo; cat "$RUN/startup.md"; }
} >"$OUT"
cat "$OUT"
log "written to $OUT (raw results in $RUN)"
