#!/bin/sh
# Prints one "name: observed result" line per POSIX check run in DIR (see posix-checks.py).
# Diff the output of a reference file system (tmpfs) against the one under test:
#   testing/conformance/posix-checks.sh /mnt/tmpfs > ref.txt
#   testing/conformance/posix-checks.sh /mnt/vfsgw > got.txt && diff -u ref.txt got.txt
# Run it as root for the ownership and device checks, and as another user, e.g.
#   setpriv --reuid=65534 --regid=65534 --clear-groups testing/conformance/posix-checks.sh DIR
# Set POSIX_CHECKS_ALL=1 to also print the checks excluded as legitimate FUSE differences.
set -e
[ $# -ge 1 ] || { echo "usage: $0 DIR [NAME-FILTER]" >&2; exit 2; }
exec /usr/bin/python3 "$(dirname "$0")/posix-checks.py" "$@"
