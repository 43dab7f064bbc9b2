# Guest workload for GuestConcurrencyIT: 4 processes write and read at once, each its own 2 MiB
# file and its own 1 MiB region of one shared 4 MiB file, 3 rounds each, verifying every read
# with sha256. Reads use O_DIRECT (dd iflag=direct), so they come from vfsgw, not the page cache.
# Reports, per worker, ok or the first mismatch; then the final sha256 of every file (the test
# recomputes them from the mem backend).
mkdir -p /mnt/c && cd /mnt/c || exit 1
dd if=/dev/zero of=shared bs=1M count=4 2>/dev/null

worker() {
    i=$1
    dd if=/dev/urandom of=/tmp/own$i bs=64k count=32 2>/dev/null
    dd if=/dev/urandom of=/tmp/reg$i bs=64k count=16 2>/dev/null
    want_own=$(sha256sum < /tmp/own$i)
    want_reg=$(sha256sum < /tmp/reg$i)
    st="ok 3 rounds"
    r=1
    while [ $r -le 3 ]; do
        dd if=/tmp/own$i of=own$i bs=64k 2>/dev/null || st="fail round $r: write own$i"
        got=$(dd if=own$i bs=64k iflag=direct 2>/dev/null | sha256sum)
        [ "$got" = "$want_own" ] || st="fail round $r: own$i read back $got"
        dd if=/tmp/reg$i of=shared bs=1M seek=$i conv=notrunc 2>/dev/null || st="fail round $r: write region $i"
        got=$(dd if=shared bs=1M skip=$i count=1 iflag=direct 2>/dev/null | sha256sum)
        [ "$got" = "$want_reg" ] || st="fail round $r: region $i read back $got"
        # Read the other workers' files while they are being rewritten (content changes: unchecked).
        for f in own0 own1 own2 own3; do [ -e $f ] && dd if=$f of=/dev/null bs=64k iflag=direct 2>/dev/null; done
        r=$((r + 1))
    done
    echo "$st" > /tmp/status$i
}

# Meanwhile move the virtio interrupts from one vCPU to the other, over and over: each move makes
# the guest mask and unmask the vector, and QEMU repoint vfsgw's call fd (SET_VRING_CALL) twice.
# A completion signalled between the two must still reach the guest, or the umount at the end
# waits forever for requests it was never told were done.
irqs=$(grep virtio /proc/interrupts | cut -d: -f1)
churn() {
    cpu=1 moves=0
    while [ ! -e /tmp/workers-done ]; do
        for n in $irqs; do echo $cpu > /proc/irq/$n/smp_affinity && moves=$((moves + 1)); done
        cpu=$((3 - cpu))
        usleep 2000
    done
    echo $moves > /tmp/irq-moves
}
churn & churner=$!
workers=
for i in 0 1 2 3; do worker $i & workers="$workers $!"; done
wait $workers
touch /tmp/workers-done
wait $churner
moves=$(cat /tmp/irq-moves)
if [ "$moves" -gt 0 ]; then result irq-moves ok "$moves"; else result irq-moves fail "no interrupt could be moved"; fi
for i in 0 1 2 3; do
    st=$(cat /tmp/status$i 2>/dev/null || echo "fail no status")
    case "$st" in ok*) result worker-$i ok "$st" ;; *) result worker-$i fail "$st" ;; esac
done
sync
echo 3 > /proc/sys/vm/drop_caches
for i in 0 1 2 3; do
    expect own$i-final "$(sha256sum < /tmp/own$i)" sh -c "sha256sum < own$i"
    expect region$i-final "$(sha256sum < /tmp/reg$i)" sh -c "dd if=shared bs=1M skip=$i count=1 2>/dev/null | sha256sum"
    result sum-own$i ok "$(sha256sum < own$i | cut -d' ' -f1)"
done
result sum-shared ok "$(sha256sum < shared | cut -d' ' -f1)"
