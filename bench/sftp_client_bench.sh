#!/usr/bin/env bash
# SFTP client throughput, side by side on one stdio server: OpenSSH's `sftp -D sftp-server` get and
# put of one file against ferry's sftp::client talking to the same /usr/lib/openssh/sftp-server over
# pipes (bench/sftp_client_bench.cpp). No SSH in between: this measures the clients' pipelining.
# Files live on tmpfs (/dev/shm); runs alternate; medians with min-max in MB/s, and ferry/OpenSSH.
# The OpenSSH figure is the file size over the whole `sftp` run (startup included, a few ms).
#
#   bench/sftp_client_bench.sh BUILD_DIR [SIZE_MB=1024] [RUNS=3] [extra ferry options...]
#
# BUILD_DIR holds bench/ferry_bench_sftp_client_bench (configure with -DFERRY_BUILD_BENCH=ON,
# Release).
set -euo pipefail

build=${1:?usage: sftp_client_bench.sh BUILD_DIR [SIZE_MB] [RUNS]}
size_mb=${2:-1024}
runs=${3:-3}
shift $(( $# < 3 ? $# : 3 ))
ferry=$build/bench/ferry_bench_sftp_client_bench
[[ -x $ferry ]] || { echo "no $ferry" >&2; exit 1; }
server=/usr/lib/openssh/sftp-server

work=$(mktemp -d /dev/shm/ferry-sftpc-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
head -c $((size_mb * 1024 * 1024)) /dev/urandom > "$work/src"
bytes=$(stat -c %s "$work/src")

now() { date +%s.%N; }
mbps() { python3 -c "print(f'{$bytes / $1 / 1e6:.1f}')"; }

openssh_run() {  # get|put -> seconds
  rm -f "$work/dst"
  if [[ $1 == get ]]; then echo "get $work/src $work/dst" > "$work/batch"
  else echo "put $work/src $work/dst" > "$work/batch"; fi
  local t0 t1
  t0=$(now)
  sftp -q -b "$work/batch" -D "$server" >/dev/null
  t1=$(now)
  cmp -s "$work/src" "$work/dst" || { echo "openssh $1: copy differs" >&2; exit 1; }
  python3 -c "print($t1 - $t0)"
}

ferry_run() {  # get|put [options] -> seconds
  local d=$1 out
  shift
  rm -f "$work/dst"
  out=$("$ferry" "$d" "$work/src" "$work/dst" "$@")
  cmp -s "$work/src" "$work/dst" || { echo "ferry $d: copy differs" >&2; exit 1; }
  awk '{print $1}' <<<"$out"
}

summary() {  # name values... -> "median (min-max) MB/s", prints median MB/s last on stdout
  python3 - "$bytes" "$@" <<'PY'
import sys, statistics
b = int(sys.argv[1]); name = sys.argv[2]
v = sorted(b / float(x) / 1e6 for x in sys.argv[3:])
print(f"{name:28s} {statistics.median(v):8.1f} MB/s  ({v[0]:.1f}-{v[-1]:.1f})")
PY
}

echo "file: $size_mb MiB on /dev/shm, $runs runs each, alternating"
for dir in get put; do
  o=(); f=()
  for _ in $(seq "$runs"); do
    o+=("$(openssh_run $dir)")
    f+=("$(ferry_run $dir "$@")")
  done
  summary "OpenSSH sftp $dir" "${o[@]}"
  summary "ferry sftp::client $dir" "${f[@]}"
  python3 - "${o[@]}" -- "${f[@]}" <<'PY'
import sys, statistics
a = sys.argv[1:]; i = a.index("--")
o = statistics.median(float(x) for x in a[:i]); f = statistics.median(float(x) for x in a[i+1:])
print(f"{'ratio ferry/OpenSSH':28s} {o / f:8.2f}x")
PY
done
