# Guest workload for GuestCoherencyIT: /mnt and /mnt2 are two virtio-fs devices served by ONE vfsgw
# process over one backend and one metadata cache (two sockets, two sessions), so each mount has its
# own guest caches. A change made through /mnt must be seen through /mnt2 within the cache timeout
# (1 s by default): new files, changed content, removals. Each check reports how long it took.

# within NAME SECONDS CMD...: polls CMD (every 0.1 s) until it succeeds; ok with the elapsed time.
within() {
    _n=$1 _max=$2
    shift 2
    _t0=$(cut -d' ' -f1 /proc/uptime)
    while :; do
        if "$@" >/dev/null 2>&1; then
            result "$_n" ok "after $(awk -v a="$_t0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.2f s", b - a }')"
            return 0
        fi
        if awk -v a="$_t0" -v b="$(cut -d' ' -f1 /proc/uptime)" -v m="$_max" 'BEGIN { exit !(b - a > m) }'; then
            result "$_n" fail "not within $_max s: $*"
            return 1
        fi
        sleep 0.1
    done
}

check write-a sh -c 'echo v1 > /mnt/co'
expect b-reads-new-file v1 cat /mnt2/co
# /mnt2 caches the negative entry of "late" (and the attributes of co) for up to the timeout.
ls /mnt2/late >/dev/null 2>&1
stat /mnt2/co >/dev/null
check create-late sh -c 'echo late > /mnt/late'
within b-sees-created-file 3 test -e /mnt2/late
check rewrite-a sh -c 'echo v2-longer > /mnt/co'
within b-sees-new-content 3 sh -c '[ "$(cat /mnt2/co)" = v2-longer ]'
check mkdir-a mkdir /mnt/dir-a
within b-lists-new-dir 3 sh -c 'ls /mnt2 | grep -qx dir-a'
check remove-a rm /mnt/late
within b-sees-removal 3 sh -c '! test -e /mnt2/late'
check write-b sh -c 'echo from-b > /mnt2/back'
within a-sees-b-file 3 sh -c '[ "$(cat /mnt/back)" = from-b ]'
# Locks live in the shared backend: a process holding a lock through /mnt blocks another that asks
# through /mnt2 (F_GETLK names the holder, F_SETLK is refused, F_SETLKW waits for the release).
check locks-across-devices $F locks /mnt/lk /mnt2/lk
