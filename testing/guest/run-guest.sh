#!/usr/bin/env bash
# Boots the vfsgw test guest by hand (the Java fixture io.vfsgw.testvm.GuestVm does the same).
#
# Usage: run-guest.sh [options]
#   --socket PATH      vhost-user-fs socket (vfsgw or virtiofsd); the guest mounts it at /mnt
#   --tag TAG          its tag (default vfsgw)
#   --opts OPTS        extra virtiofs mount options for /mnt (e.g. dax)
#   --fs SOCK:TAG:DIR  one more virtio-fs share mounted at DIR in the guest (repeatable)
#   --9p HOSTDIR:TAG:DIR  a virtio-9p share of HOSTDIR mounted at DIR (repeatable)
#   --script FILE      guest shell script to run (default: an interactive shell)
#   --fio              use the initramfs that carries fio
#   --queue-size N     virtqueue size of every virtio-fs device (default 1024, as virtiofsd's docs
#                      advise; QEMU's own default of 128 caps a guest's FUSE request at 496 KiB)
#   --mem MIB --cpus N (default 1024 and 2)
# Without --script the guest console is interactive; leave the shell (exit / Ctrl-D) to power off,
# or press Ctrl-A X to kill QEMU.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${VFSGW_GUEST_CACHE:-$HOME/.cache/vfsgw-guest}
GUEST_ENV=$("$HERE/build-guest.sh" "$CACHE")
# shellcheck disable=SC1090
. "$GUEST_ENV"

SOCKET= TAG=vfsgw OPTS= SCRIPT= MEM=1024 CPUS=2 FIO=0 QUEUE_SIZE=1024
SHARES=() NINEPS=() DEVICES=() CMDLINE=()
n=1
while [ $# -gt 0 ]; do
    case "$1" in
        --socket) SOCKET=$2; shift ;;
        --tag) TAG=$2; shift ;;
        --opts) OPTS=$2; shift ;;
        --fs) SHARES+=("$2"); shift ;;
        --9p) NINEPS+=("$2"); shift ;;
        --script) SCRIPT=$2; shift ;;
        --fio) FIO=1 ;;
        --mem) MEM=$2; shift ;;
        --cpus) CPUS=$2; shift ;;
        --queue-size) QUEUE_SIZE=$2; shift ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "run-guest: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
if [ -n "$SOCKET" ]; then
    DEVICES+=(-chardev "socket,id=vfs0,path=$SOCKET" -device "vhost-user-fs-pci,chardev=vfs0,tag=$TAG,queue-size=$QUEUE_SIZE")
    CMDLINE+=("vfsgw.tag=$TAG" ${OPTS:+"vfsgw.opts=$OPTS"})
fi
for spec in ${SHARES[@]+"${SHARES[@]}"}; do
    IFS=: read -r s t d <<<"$spec"
    DEVICES+=(-chardev "socket,id=vfs$n,path=$s" -device "vhost-user-fs-pci,chardev=vfs$n,tag=$t,queue-size=$QUEUE_SIZE")
    CMDLINE+=("vfsgw.mount=virtiofs:$t:$d"); n=$((n + 1))
done
for spec in ${NINEPS[@]+"${NINEPS[@]}"}; do
    IFS=: read -r h t d <<<"$spec"
    DEVICES+=(-fsdev "local,id=p9$n,path=$h,security_model=passthrough" -device "virtio-9p-pci,fsdev=p9$n,mount_tag=$t")
    CMDLINE+=("vfsgw.mount=9p:$t:$d"); n=$((n + 1))
done
if [ -n "$SCRIPT" ]; then
    DEVICES+=(-fw_cfg "name=opt/vfsgw/script,file=$SCRIPT")
    CMDLINE+=(vfsgw.mode=script)
    SERIAL=(-serial stdio)
else
    CMDLINE+=(vfsgw.mode=shell)
    SERIAL=(-serial mon:stdio)   # Ctrl-A X quits, Ctrl-A C is the QEMU monitor
fi
INITRD_USED=$INITRD
[ "$FIO" = 1 ] && INITRD_USED=$INITRD_FIO

exec qemu-system-x86_64 -accel tcg -m "$MEM" -smp "$CPUS" -nodefaults -no-user-config -display none \
    "${SERIAL[@]}" -no-reboot \
    -object "memory-backend-memfd,id=mem,size=${MEM}M,share=on" -numa node,memdev=mem \
    "${DEVICES[@]}" \
    -kernel "$KERNEL" -initrd "$INITRD_USED" \
    -append "console=ttyS0 quiet panic=-1 ${CMDLINE[*]}"
