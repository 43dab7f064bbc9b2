#!/bin/sh
# /init of the vfsgw test guest (busybox sh). Loads the virtio/fuse/9p modules, mounts the shares
# named on the kernel command line, runs the script the host passed through fw_cfg, reports on the
# serial console and powers off.
#
# Kernel command line (all optional):
#   vfsgw.mode=script|shell|9p   script (default): run the fw_cfg script, then power off
#                                shell: interactive shell on the console, power off when it exits
#                                9p: like script, but the main tag is mounted with 9p, not virtiofs
#   vfsgw.tag=TAG                main share, mounted at /mnt (virtiofs, or 9p in 9p mode)
#   vfsgw.opts=OPTS              extra mount options for the main share (comma separated)
#   vfsgw.mount=TYPE:TAG:DIR[:OPTS]   one more share (TYPE virtiofs or 9p); may be repeated
# Console protocol (one line each, parsed by io.vfsgw.testvm.GuestVm):
#   VFSGW-RESULT <name> ok|fail <detail>    from the script's check/result helpers (lib/vfsgw.sh)
#   VFSGW-READY uptime=<s>                  modules loaded and shares mounted, script starts
#   VFSGW-DONE rc=<n>                       script exit status; power-off follows
# rc 120-127 are set by /init itself: 121 a mount failed, 122 no script, 123 module load failed.

export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root
SCRIPT_FW=/sys/firmware/qemu_fw_cfg/by_name/opt/vfsgw/script/raw
NINEP_OPTS=trans=virtio,version=9p2000.L,msize=512000

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null || { mount -t tmpfs dev /dev; mknod /dev/console c 5 1; mknod /dev/null c 1 3; mknod /dev/ttyS0 c 4 64; }
exec 0</dev/console 1>/dev/console 2>&1
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
hostname vfsgw-guest
ip link set lo up 2>/dev/null

. /lib/vfsgw.sh

finish() {
    cd /
    sync
    for dir in $MOUNTED; do
        if out=$(timeout 20 umount "$dir" 2>&1); then
            vfsgw_result "umount:$dir" ok ""
        else
            vfsgw_result "umount:$dir" fail "$out"
        fi
    done
    echo "VFSGW-DONE rc=$1"
    poweroff -f
    # Not reached; if poweroff fails, exiting /init panics and panic=-1 + -no-reboot ends QEMU.
    exit "$1"
}

# load_modules LIST: insmods the modules named in LIST (already in dependency order).
load_modules() {
    for m in $(cat "$1"); do
        if ! out=$(insmod "/lib/modules/$m.ko" 2>&1); then
            vfsgw_result "insmod:$m" fail "$out"
            finish 123
        fi
    done
}
load_modules /lib/modules/order
NINEP_LOADED=

MODE=script TAG= OPTS= EXTRA=
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        vfsgw.mode=*)  MODE=${arg#vfsgw.mode=} ;;
        vfsgw.tag=*)   TAG=${arg#vfsgw.tag=} ;;
        vfsgw.opts=*)  OPTS=${arg#vfsgw.opts=} ;;
        vfsgw.mount=*) EXTRA="$EXTRA ${arg#vfsgw.mount=}" ;;
    esac
done

MOUNTED=
# mount_share TYPE TAG DIR OPTS: mounts one share, reports a failure with the kernel's last words.
mount_share() {
    type=$1 tag=$2 dir=$3 opts=$4
    mkdir -p "$dir"
    case "$type" in
        9p) opts=$NINEP_OPTS${opts:+,$opts}
            [ -n "$NINEP_LOADED" ] || { load_modules /lib/modules/order-9p; NINEP_LOADED=1; } ;;
        virtiofs) ;;
        *) vfsgw_result "mount:$dir" fail "unknown type $type"; finish 121 ;;
    esac
    if out=$(mount -t "$type" ${opts:+-o "$opts"} "$tag" "$dir" 2>&1); then
        MOUNTED="$dir $MOUNTED"
    else
        vfsgw_result "mount:$dir" fail "$type $tag: $out / $(dmesg | tail -n 3 | tr '\n' ' ')"
        finish 121
    fi
}

if [ -n "$TAG" ]; then
    if [ "$MODE" = 9p ]; then mount_share 9p "$TAG" /mnt "$OPTS"; else mount_share virtiofs "$TAG" /mnt "$OPTS"; fi
fi
for spec in $EXTRA; do
    IFS=: read -r type tag dir opts <<SPEC
$spec
SPEC
    mount_share "$type" "$tag" "$dir" "$opts"
done

echo "VFSGW-READY uptime=$(cut -d' ' -f1 /proc/uptime)"

if [ "$MODE" = shell ]; then
    echo "vfsgw guest: shares mounted:$(for d in $MOUNTED; do printf ' %s' "$d"; done). Exit the shell to power off."
    setsid cttyhack sh -l
    finish $?
fi

if [ ! -r "$SCRIPT_FW" ]; then
    vfsgw_result script fail "no script: pass -fw_cfg name=opt/vfsgw/script,file=PATH"
    finish 122
fi
cp "$SCRIPT_FW" /tmp/script.sh
cd /mnt 2>/dev/null || cd /
# A child shell, so that `exit N` in the script ends the script and not /init.
sh -c '. /lib/vfsgw.sh; . /tmp/script.sh' vfsgw-script
finish $?
