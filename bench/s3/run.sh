#!/usr/bin/env bash
# S3 benchmark: vfsgw, s3fs and rclone mounts and the AWS SDK itself against one local S3Proxy,
# every request counted by an nginx reverse proxy. One command; about 8 min on 2 shared cores.
# Needs root (/dev/fuse, drop_caches), s3fs, rclone, fio, nginx (Debian: nginx-light).
# Env: BENCH_S3_MIB (256), BENCH_S3_ROUNDS (3, interleaved), BENCH_S3_RAND_SECONDS (15), BENCH_S3_SMALL (1000), BENCH_S3_LIST (10000),
# BENCH_S3_CLIENTS (sdk,vfsgw,s3fs,rclone), BENCH_S3_WORK (/tmp/vfsgw-bench-s3), BENCH_S3_VFSGW_ARGS (extra
# vfsgw mount options, e.g. "--s3-http-client netty").
# Results: $BENCH_S3_WORK/results.{json,md}; bench/s3/results.md keeps the last run's table.
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in s3fs rclone fio nginx java mvn python3; do
  command -v "$tool" >/dev/null || { echo "bench/s3: missing $tool" >&2; exit 2; }
done
[ -f cli/target/vfsgw.jar ] || mvn -q -o install -DskipTests
cpfile=$(mktemp)
# S3Proxy 4.1.0 and the AWS SDK exactly as backend-s3's tests use them
mvn -q -o dependency:build-classpath -pl backend-s3 -Dmdep.includeScope=test -Dmdep.outputFile="$cpfile" >/dev/null
BENCH_S3_CLASSPATH_FILE="$cpfile" python3 bench/s3/bench.py
cp "${BENCH_S3_WORK:-/tmp/vfsgw-bench-s3}/results.md" bench/s3/results.md
rm -f "$cpfile"
