#!/usr/bin/env bash
# Builds (once) the Linux guest every virtio-fs test boots: a Debian kernel, and an initramfs with
# busybox, the virtio/fuse/virtiofs/9p modules and an /init that mounts the share and runs a script.
#
# Usage: build-guest.sh [CACHE_DIR]
#   CACHE_DIR defaults to ${VFSGW_GUEST_CACHE:-$HOME/.cache/vfsgw-guest}.
# Produces, in CACHE_DIR/builds/<stamp>/ (one directory per distinct set of inputs, so checkouts
# with different versions of these scripts can share a cache without rebuilding in turn):
#   vmlinuz          the kernel as Debian ships it (bzImage)
#   vmlinux          the same kernel uncompressed (ELF, PVH entry): boots ~4 s faster under TCG
#   initrd.img       busybox + modules + /init (small: boots fastest)
#   initrd-fio.img   fio and its libraries (raw cpio) followed by initrd.img
#   guest.env        KERNEL=, INITRD=, INITRD_FIO=, KERNEL_RELEASE= (absolute paths), for scripts
# and prints the path of that guest.env on stdout (everything else goes to stderr). CACHE_DIR/guest.env
# is a copy of the newest one, for people running guests by hand.
# Idempotent: a second run with unchanged inputs does nothing (it compares a stamp of the inputs).
# The kernel package is fetched once and then pinned in the cache; VFSGW_GUEST_REFRESH=1 fetches
# the newest linux-image-amd64 again.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${1:-${VFSGW_GUEST_CACHE:-$HOME/.cache/vfsgw-guest}}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)

# Modules the guest needs; their dependencies are resolved from each .ko's modinfo "depends=".
# The 9p ones are loaded only when a 9p share is mounted (they cost ~0.3 s of boot under TCG).
WANTED_MODULES="virtio_pci virtiofs qemu_fw_cfg"
WANTED_MODULES_9P="9pnet_virtio 9p"

log() { echo "build-guest: $*" >&2; }
die() { echo "build-guest: ERROR: $*" >&2; exit 1; }

# Several test JVMs (or helpers) may build at once: one builder at a time per cache.
exec 9>"$CACHE/.lock"
flock 9

# --- host tools -----------------------------------------------------------------------------
need_pkgs=()
# busybox-static, not busybox: the guest has no libc for a dynamic one.
if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then need_pkgs+=(busybox-static); fi
command -v cpio >/dev/null || need_pkgs+=(cpio)
command -v fio >/dev/null || need_pkgs+=(fio)
command -v dpkg >/dev/null || die "dpkg not found: this script needs a Debian-based host"
command -v qemu-system-x86_64 >/dev/null || need_pkgs+=(qemu-system-x86)
if [ ${#need_pkgs[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "missing host packages: ${need_pkgs[*]} (run: apt-get install ${need_pkgs[*]})"
    log "installing missing host packages: ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${need_pkgs[@]}" >&2 || { apt-get update -q >&2 && apt-get install -y -q "${need_pkgs[@]}" >&2; }
fi
BUSYBOX=/bin/busybox

# --- kernel package ---------------------------------------------------------------------------
DEB=$(ls "$CACHE"/debs/linux-image-*-amd64_*.deb 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$DEB" ] || [ "${VFSGW_GUEST_REFRESH:-0}" = 1 ]; then
    # linux-image-amd64 is a metapackage: resolve it to the real linux-image-X.Y.Z-N-amd64.
    resolve() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}'; }
    PKG=$(resolve)
    if [ -z "$PKG" ]; then
        log "apt lists do not know linux-image-amd64: running apt-get update"
        apt-get update -q >&2 || die "apt-get update failed"
        PKG=$(resolve)
    fi
    [ -n "$PKG" ] || die "cannot resolve linux-image-amd64 to a kernel package"
    log "downloading $PKG"
    mkdir -p "$CACHE/debs"
    tmp=$(mktemp -d "$CACHE/debs/.dl.XXXXXX")
    (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$PKG" >&2) || { rm -rf "$tmp"; die "apt-get download $PKG failed"; }
    mv "$tmp"/*.deb "$CACHE/debs/"
    rm -rf "$tmp"
    DEB=$(ls "$CACHE"/debs/"$PKG"_*.deb | sort -V | tail -1)
fi

# --- stamp of every input: rebuild only when one changed ---------------------------------------
FIO=$(command -v fio)
fio_libs() { ldd "$FIO" | awk '/=> \//{print $3} /^[[:space:]]*\/lib.*ld-linux/{print $1}'; }
stamp_inputs() {
    echo "format 3"
    echo "modules $WANTED_MODULES / $WANTED_MODULES_9P"
    stat -L -c '%n %s %Y' "$DEB" "$BUSYBOX" "$FIO" $(fio_libs)
    sha256sum "$HERE/build-guest.sh" "$HERE/init.sh" "$HERE/vfsgw-lib.sh"
}
INPUTS=$(stamp_inputs)
STAMP=$(printf '%s\n' "$INPUTS" | sha256sum | cut -c1-16)
OUT="$CACHE/builds/$STAMP"
if [ -f "$OUT/guest.env" ]; then
    log "up to date ($OUT)"
    touch "$OUT"            # most recently used: kept by the clean-up below
    echo "$OUT/guest.env"
    exit 0
fi
log "building guest in $OUT from $(basename "$DEB")"
LAST=$(ls -td "$CACHE"/builds/*/ 2>/dev/null | head -1 || true)
if [ -n "$LAST" ] && [ -f "$LAST/stamp.inputs" ]; then
    log "inputs changed since the last build ($LAST):"
    diff "$LAST/stamp.inputs" <(printf '%s\n' "$INPUTS") | grep '^[<>]' | sed 's/^/  /' >&2 || true
fi

WORK=$(mktemp -d "$CACHE/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
dpkg -x "$DEB" "$WORK/deb"
VMLINUZ=$(ls "$WORK"/deb/boot/vmlinuz-* | head -1)
KREL=${VMLINUZ##*/vmlinuz-}
MODDIR="$WORK/deb/lib/modules/$KREL"
[ -d "$MODDIR" ] || MODDIR="$WORK/deb/usr/lib/modules/$KREL"
[ -d "$MODDIR" ] || die "no modules directory for $KREL in $DEB"

# --- modules, in dependency order -------------------------------------------------------------
find_ko() { find "$MODDIR" -name "$1.ko" -o -name "$1.ko.xz" -o -name "$1.ko.zst" -o -name "$1.ko.gz" \
                 -o -name "${1//_/-}.ko" -o -name "${1//_/-}.ko.xz" -o -name "${1//_/-}.ko.zst" | head -1; }
is_builtin() { grep -q "/${1}.ko\$\|/${1//_/-}.ko\$" "$MODDIR/modules.builtin" 2>/dev/null; }
ORDER=()
declare -A SEEN=()
add_module() {
    local m=$1
    [ -n "${SEEN[$m]:-}" ] && return 0
    SEEN[$m]=1
    if is_builtin "$m"; then return 0; fi
    local f; f=$(find_ko "$m")
    [ -n "$f" ] || die "module $m is neither built in nor shipped in $(basename "$DEB")"
    local raw="$WORK/ko/$m.ko"
    mkdir -p "$WORK/ko"
    case "$f" in
        *.ko.xz)  xz -dc "$f" > "$raw" ;;
        *.ko.zst) zstd -qdc "$f" > "$raw" ;;
        *.ko.gz)  gzip -dc "$f" > "$raw" ;;
        *)        cp "$f" "$raw" ;;
    esac
    local deps; deps=$(grep -a -o 'depends=[A-Za-z0-9_,-]*' "$raw" | head -1 | cut -d= -f2)
    local d
    for d in ${deps//,/ }; do add_module "${d//-/_}"; done
    ORDER+=("$m")
}
for m in $WANTED_MODULES; do add_module "$m"; done
BASE_COUNT=${#ORDER[@]}
for m in $WANTED_MODULES_9P; do add_module "$m"; done
log "modules: ${ORDER[*]:0:$BASE_COUNT} (9p: ${ORDER[*]:$BASE_COUNT})"

# --- base initramfs -------------------------------------------------------------------------
R="$WORK/root"
mkdir -p "$R"/{bin,sbin,dev,proc,sys,tmp,mnt,run,etc,lib/modules,root}
cp "$BUSYBOX" "$R/bin/busybox"
for applet in $("$BUSYBOX" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$R/bin/$applet"
done
for m in "${ORDER[@]}"; do cp "$WORK/ko/$m.ko" "$R/lib/modules/"; done
printf '%s\n' "${ORDER[@]:0:$BASE_COUNT}" > "$R/lib/modules/order"
printf '%s\n' "${ORDER[@]:$BASE_COUNT}" > "$R/lib/modules/order-9p"
echo "$KREL" > "$R/etc/kernel-release"
install -m 0755 "$HERE/init.sh" "$R/init"
install -m 0644 "$HERE/vfsgw-lib.sh" "$R/lib/vfsgw.sh"
echo "root:x:0:0:root:/root:/bin/sh" > "$R/etc/passwd"
echo "root:x:0:" > "$R/etc/group"
# cpio from a sorted file list with fixed mtimes, so the same inputs give the same image.
find "$R" -exec touch -h -d @0 {} +
(cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -6 -n > "$WORK/initrd.img"

# --- fio: a second cpio archive; the kernel unpacks concatenated archives one after the other ----
F="$WORK/fio"
mkdir -p "$F/usr/bin"
cp -L "$FIO" "$F/usr/bin/fio"
for lib in $(fio_libs); do
    mkdir -p "$F$(dirname "$lib")"
    cp -L "$lib" "$F$lib"
done
# Debian's ld.so lives at /lib64/ld-linux-x86-64.so.2 (usr-merged or not): make every spelling work.
[ -e "$F/lib64/ld-linux-x86-64.so.2" ] || { mkdir -p "$F/lib64"; cp -L /lib64/ld-linux-x86-64.so.2 "$F/lib64/"; }
find "$F" -exec touch -h -d @0 {} +
# Left uncompressed: gunzipping 85 MB under TCG costs the guest ~5 s on every boot, while QEMU
# loads the bigger file through fw_cfg DMA in a fraction of that.
(cd "$F" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$WORK/fio.cpio"
# Uncompressed archive first, as Debian does with early microcode: the kernel finds the gzip member
# after it by its magic, whereas a raw archive after a gzip member is rejected ("invalid magic").
cat "$WORK/fio.cpio" "$WORK/initrd.img" > "$WORK/initrd-fio.img"

# --- uncompressed kernel ------------------------------------------------------------------------
# TCG spends ~4 s decompressing bzImage. Debian kernels have CONFIG_PVH, so QEMU can boot the
# uncompressed ELF vmlinux directly: pull the compressed payload out of the bzImage and unpack it.
extract_vmlinux() {
    local magic tool off
    for spec in $'\xfd7zXZ:xz -dc --single-stream' $'\x28\xb5\x2f\xfd:zstd -qdc' $'\x1f\x8b\x08:gzip -dc'; do
        magic=${spec%%:*} tool=${spec#*:}
        command -v "${tool%% *}" >/dev/null || continue
        for off in $(LC_ALL=C grep -abo "$magic" "$VMLINUZ" | cut -d: -f1 | head -5); do
            tail -c +$((off + 1)) "$VMLINUZ" | $tool > "$WORK/vmlinux" 2>/dev/null || true
            if [ "$(head -c 4 "$WORK/vmlinux" 2>/dev/null)" = $'\x7fELF' ]; then return 0; fi
        done
    done
    rm -f "$WORK/vmlinux"
    return 1
}
if grep -q "^CONFIG_PVH=y" "$WORK"/deb/boot/config-* 2>/dev/null && extract_vmlinux; then
    BOOT_KERNEL=vmlinux
else
    log "no uncompressed ELF kernel could be extracted: booting the slower bzImage"
    BOOT_KERNEL=vmlinuz
fi

# --- publish: build in a temp dir, rename it into place (readers never see half an image) ------
cp "$VMLINUZ" "$WORK/vmlinuz"
mkdir -p "$CACHE/builds"
PUB=$(mktemp -d "$CACHE/builds/.new.XXXXXX")
for f in vmlinuz vmlinux initrd.img initrd-fio.img; do
    if [ -f "$WORK/$f" ]; then mv -f "$WORK/$f" "$PUB/$f"; fi
done
cat > "$PUB/guest.env" <<ENV
KERNEL=$OUT/$BOOT_KERNEL
INITRD=$OUT/initrd.img
INITRD_FIO=$OUT/initrd-fio.img
KERNEL_RELEASE=$KREL
ENV
printf '%s\n' "$INPUTS" > "$PUB/stamp.inputs"
chmod 755 "$PUB"
rm -rf "$OUT"               # a leftover of an interrupted run, if any (we hold the lock)
mv -T "$PUB" "$OUT"
cp "$OUT/guest.env" "$CACHE/guest.env.tmp" && mv -f "$CACHE/guest.env.tmp" "$CACHE/guest.env"
# Keep the 3 most recently used builds (~160 MB each).
ls -td "$CACHE"/builds/*/ | tail -n +4 | xargs -r rm -rf
log "done: kernel $KREL, initrd $(du -h "$OUT/initrd.img" | cut -f1), initrd-fio $(du -h "$OUT/initrd-fio.img" | cut -f1)"
echo "$OUT/guest.env"
