# Guest workload for GuestWorkloadIT: every FUSE operation the guest kernel issues on a virtiofs
# mount, each check reporting one VFSGW-RESULT line. Runs in /mnt (the vfsgw share) after
# testing/guest/vfsgw-lib.sh; needs the static helper fsops (testing/guest/workloads/fsops.c)
# passed as fw_cfg opt/vfsgw/fsops for what busybox cannot do (xattrs, renameat2, locks, ...).
# Expected failures are checked by their errno text (glibc's strerror, as busybox prints it).

# fails NAME TEXT CMD...: ok when CMD fails and its output contains TEXT.
fails() {
    _n=$1 _t=$2
    shift 2
    _o=$("$@" 2>&1)
    _r=$?
    case "$_o" in
        *"$_t"*) if [ $_r -ne 0 ]; then result "$_n" ok "$_o"; return 0; fi ;;
    esac
    result "$_n" fail "rc=$_r want [$_t] got [$_o]"
    return 1
}
# Drops the guest's page, dentry and inode caches: the next read must come from vfsgw.
dropcaches() { sync; echo 3 > /proc/sys/vm/drop_caches; }

F=/tmp/fsops
if ! cp /sys/firmware/qemu_fw_cfg/by_name/opt/vfsgw/fsops/raw $F 2>/dev/null || ! chmod +x $F; then
    result fsops-load fail "no fw_cfg opt/vfsgw/fsops: pass -fw_cfg name=opt/vfsgw/fsops,file=fsops"
    exit 1
fi

check mkdir-work mkdir /mnt/w
cd /mnt/w || exit 1

# --- create, write, read, append, overwrite in place, truncate (CREATE WRITE READ SETATTR FLUSH RELEASE)
echo hello > a
expect read-small hello cat a
echo world >> a
expect append "$(printf 'hello\nworld')" cat a
printf XYZ | dd of=a bs=1 seek=2 conv=notrunc 2>/dev/null
dropcaches
expect overwrite-notrunc "$(printf 'heXYZ\nworld')" cat a
check truncate-shrink truncate -s 3 a
expect truncate-shrink-read heX cat a
check truncate-grow truncate -s 10000 a
expect truncate-grow-size 10000 stat -c %s a
: > a
expect otrunc-size 0 stat -c %s a
dd if=/dev/urandom of=/tmp/big bs=1M count=8 2>/dev/null
check write-8m cp /tmp/big big
want=$(sha256sum < /tmp/big)
dropcaches
expect read-8m "$want" sh -c 'sha256sum < big'
expect read-8m-size 8388608 stat -c %s big
echo "kept by the guest" > keep.txt
check fallocate fallocate -l 65536 fa
expect fallocate-size 65536 stat -c %s fa

# --- directories (MKDIR RMDIR OPENDIR READDIRPLUS RELEASEDIR)
check mkdir-p mkdir -p d/e/f
check rmdir rmdir d/e/f
mkdir many
i=0
while [ $i -lt 300 ]; do : > many/file-with-a-long-name-$i; i=$((i + 1)); done
dropcaches
expect readdir-300 300 sh -c 'ls many | wc -l'
expect readdir-last file-with-a-long-name-299 sh -c 'ls many | grep -x file-with-a-long-name-299'
expect find-count 301 sh -c 'find many | wc -l'
check rm-many rm -r many

# --- rename and links (RENAME RENAME2 LINK SYMLINK READLINK UNLINK)
echo one > x
echo two > y
check rename mv x x2
fails rename-old-gone "No such file or directory" cat x
check rename-overwrite mv x2 y
expect rename-overwrite-read one cat y
check rename-across-dirs mv y d/y
expect rename-across-read one cat d/y
check link ln d/y hard
expect link-count 2 stat -c %h d/y
check unlink rm hard
expect unlink-count 1 stat -c %h d/y
check symlink ln -s d/y sym
expect readlink d/y readlink sym
expect symlink-follow one cat sym
expect symlink-type "symbolic link" stat -c %F sym
echo A > ra
echo B > rb
fails rename2-noreplace "EEXIST" $F rename2 ra rb noreplace
check rename2-exchange $F rename2 ra rb exchange
expect rename2-exchange-read "B A" sh -c 'echo $(cat ra) $(cat rb)'

# --- attributes (SETATTR GETATTR ACCESS)
echo secret > perm
check chmod chmod 640 perm
expect chmod-read 640 stat -c %a perm
check chown chown 1000:1000 perm
expect chown-read 1000:1000 stat -c %u:%g perm
check touch-d touch -d "2020-01-02 03:04:05" perm
expect touch-d-read 1577934245 stat -c %Y perm
check utimens $F utime perm 1234567890
expect utimens-read 1234567890 stat -c %Y perm
check access $F access perm r
fails access-missing "ENOENT" $F access nothing r

# --- special files (MKNOD)
check mkfifo mkfifo fifo
expect fifo-type fifo stat -c %F fifo
(echo through-the-fifo > fifo) &
expect fifo-data through-the-fifo cat fifo
wait
check mknod-char mknod null c 1 3
expect mknod-char-type "character special file 1,3" stat -c '%F %t,%T' null

# --- xattrs (SETXATTR GETXATTR LISTXATTR REMOVEXATTR)
echo x > xf
check setxattr $F setxattr xf user.color blue
check setxattr-2 $F setxattr xf user.shape round
expect getxattr blue $F getxattr xf user.color
expect listxattr user.color,user.shape $F listxattr xf
fails setxattr-create-exists "EEXIST" $F setxattr xf user.color red create
fails setxattr-replace-missing "ENODATA" $F setxattr xf user.size big replace
check removexattr $F removexattr xf user.shape
fails getxattr-removed "ENODATA" $F getxattr xf user.shape

# --- data ops (LSEEK COPY_FILE_RANGE FSYNC FSYNCDIR SYNCFS STATFS) and mmap
expect lseek-hole-at-eof 8388608 $F seekhole big 0
fails lseek-data-past-eof "ENXIO" $F seekdata big 9000000
expect copy-file-range 8388608 $F copyrange big big2 8388608
dropcaches
expect copy-file-range-data "$want" sh -c 'sha256sum < big2'
check mmap-write $F mmapwrite mm "written through a shared mapping"
dropcaches
expect mmap-read-back "written through a shared mapping" cat mm
expect mmap-read "written through a shared mapping" $F mmapread mm 32
check fsync $F fsync keep.txt
check fdatasync $F fdatasync keep.txt
check fsyncdir $F fsyncdir .
check syncfs $F syncfs .
check sync sync
expect statfs-type 65735546 stat -f -c %t /mnt
check statfs-size sh -c 'df -k /mnt | awk "NR==2 { if (\$2 > 0) print \$2; else exit 1 }"'

# --- locks (GETLK SETLK SETLKW, flock)
check locks $F locks lockfile

# --- expected failures and their errnos
fails enoent-open "No such file or directory" cat missing
fails enoent-stat "No such file or directory" stat missing
check mkdir-once mkdir twice
fails eexist-mkdir "File exists" mkdir twice
fails eexist-o-excl "EEXIST" $F createx keep.txt
fails enotempty-rmdir "Directory not empty" rmdir d
fails eisdir-open-write "EISDIR" $F openat-dir-write d
fails eisdir-unlink "Is a directory" unlink d
fails enotdir-lookup "Not a directory" ls keep.txt/x
fails enotdir-rmdir "Not a directory" rmdir keep.txt
fails enametoolong "File name too long" touch "$(printf 'n%.0s' $(seq 1 256))"
check name-255 touch "$(printf 'n%.0s' $(seq 1 255))"
ln -s loop1 loop2
ln -s loop2 loop1
fails eloop "Too many levels of symbolic links" cat loop1

# --- fsx: random writes, reads, truncates, mapped I/O, hole punches and copies against a model;
# the test compares the size and hash it prints with what the backend stored
check fsx $F fsx fsx.dat 3000 7

# --- cleanup of a tree (UNLINK RMDIR on many levels, FORGET)
mkdir -p t/a/b/c
echo deep > t/a/b/c/f
check rm-r rm -r t
fails rm-r-gone "No such file or directory" ls t
dropcaches
expect keep-after-dropcaches "kept by the guest" cat keep.txt
