#!/usr/bin/env bash
# Side-by-side SFTP server throughput through OpenSSH's sftp client over stdio (`sftp -D`, no sshd
# and no cipher in the way, so the servers themselves are compared): OpenSSH's sftp-server
# against ferry-sftp-server, get and put of one file on tmpfs. Runs alternate between the two
# servers; medians with min-max are printed in MB/s, plus ferry's ratio to OpenSSH.
#
#   bench/sftp_bench.sh BUILD_DIR [SIZE_MB=1024] [RUNS=3]
#
# BUILD_DIR holds examples/ferry-sftp-server (build it with -DCMAKE_BUILD_TYPE=Release). Downloads
# go to /dev/null as well as to tmpfs (a new tmpfs file is slow to write right after a large
# delete on some VMs: the /dev/null figure is the server's own). Everything lives in a temp dir
# under /dev/shm, removed on exit.
set -euo pipefail

build=${1:?usage: sftp_bench.sh BUILD_DIR [SIZE_MB] [RUNS]}
size_mb=${2:-1024}
runs=${3:-3}
ferry=$(cd "$build" && pwd)/examples/ferry-sftp-server
openssh=/usr/lib/openssh/sftp-server
[[ -x $ferry ]] || { echo "no $ferry" >&2; exit 1; }
[[ -x $openssh ]] || { echo "no $openssh" >&2; exit 1; }

work=$(mktemp -d /dev/shm/ferry-sftp-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/remote" "$work/local"
head -c $((size_mb * 1024 * 1024)) /dev/urandom > "$work/local/file"
cp "$work/local/file" "$work/remote/file"
bytes=$((size_mb * 1024 * 1024))

# seconds for one sftp batch against a server program
run() {
  local server=$1 batch=$2
  printf '%s\n' "$batch" > "$work/batch"
  local t0 t1
  t0=$(date +%s.%N)
  (cd "$work" && sftp -q -b "$work/batch" -D "$server" >/dev/null)
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

declare -A results
for kind in get_null get put; do
  for name in openssh ferry; do results[$kind.$name]=""; done
done

for i in $(seq "$runs"); do
  for name in openssh ferry; do
    server=$openssh
    [[ $name == ferry ]] && server=$ferry
    t=$(run "$server" "get remote/file /dev/null")
    results[get_null.$name]+="$(echo "$bytes / $t / 1000000" | bc -l) "
    rm -f "$work/local/down"
    t=$(run "$server" "get remote/file local/down")
    cmp -s "$work/local/file" "$work/local/down" || { echo "$name get: corrupt" >&2; exit 1; }
    results[get.$name]+="$(echo "$bytes / $t / 1000000" | bc -l) "
    rm -f "$work/local/down" "$work/remote/up"
    t=$(run "$server" "put local/file remote/up")
    cmp -s "$work/local/file" "$work/remote/up" || { echo "$name put: corrupt" >&2; exit 1; }
    results[put.$name]+="$(echo "$bytes / $t / 1000000" | bc -l) "
    rm -f "$work/remote/up"
  done
done

stats() {  # median min max of the numbers given
  printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.0f %.0f %.0f", m, v[1], v[NR]}'
}

echo "SFTP over stdio (sftp -D), ${size_mb} MiB, ${runs} runs each, MB/s median (min-max)"
printf '%-16s %-22s %-22s %s\n' "transfer" "OpenSSH sftp-server" "ferry-sftp-server" "ratio"
for kind in get_null get put; do
  read -r om omin omax <<< "$(stats ${results[$kind.openssh]})"
  read -r fm fmin fmax <<< "$(stats ${results[$kind.ferry]})"
  label=$kind
  [[ $kind == get_null ]] && label="get (to /dev/null)"
  printf '%-16s %-22s %-22s %.2fx\n' "$label" "$om ($omin-$omax)" "$fm ($fmin-$fmax)" \
    "$(echo "$fm / $om" | bc -l)"
done
