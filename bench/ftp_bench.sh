#!/usr/bin/env bash
# Side-by-side FTP/FTPS throughput: curl <-> vsftpd against curl <-> ferry's example ftp_server
# and ferry-ftp <-> ftp_server, plain and explicit FTPS (both servers require TLS session reuse on
# data connections), get and put, on tmpfs. Runs alternate; medians with min-max are printed in
# MB/s, plus ratios to curl <-> vsftpd. ferry-ftp's figure is the file size over the program's
# whole run (connect and login included), so it slightly understates the transfer rate.
#
#   bench/ftp_bench.sh BUILD_DIR [SIZE_MB=1024] [RUNS=3]
#
# BUILD_DIR holds examples/ftp_server and examples/ferry-ftp (build them with -DCMAKE_BUILD_TYPE=Release). Needs vsftpd,
# curl and openssl. Runs as root (vsftpd). Everything lives in a temp dir under /dev/shm and every
# process started here is stopped by its pid on exit.
set -euo pipefail

build=${1:?usage: ftp_bench.sh BUILD_DIR [SIZE_MB] [RUNS]}
size_mb=${2:-1024}
runs=${3:-3}
server=$build/examples/ftp_server
[[ -x $server ]] || { echo "no $server" >&2; exit 1; }
client=$build/examples/ferry-ftp
[[ -x $client ]] || { echo "no $client" >&2; exit 1; }

work=$(mktemp -d /dev/shm/ferry-ftp-bench-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() { for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; return 1; }

mkdir -p "$work/vs/pub" "$work/ferry" "$work/empty" "$work/local"
chmod 755 "$work/vs"; chmod 777 "$work/vs/pub"
head -c $((size_mb * 1024 * 1024)) /dev/urandom > "$work/local/file"
cp "$work/local/file" "$work/vs/pub/file"
cp "$work/local/file" "$work/ferry/file"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1

vport=$(free_port)
cat > "$work/vsftpd.conf" <<CONF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$vport
background=NO
anonymous_enable=YES
no_anon_password=YES
local_enable=NO
anon_root=$work/vs
write_enable=YES
anon_upload_enable=YES
anon_other_write_enable=YES
pasv_enable=YES
connect_from_port_20=NO
secure_chroot_dir=$work/empty
seccomp_sandbox=NO
xferlog_enable=NO
ssl_enable=YES
allow_anon_ssl=YES
force_anon_logins_ssl=NO
force_anon_data_ssl=NO
require_ssl_reuse=YES
rsa_cert_file=$work/cert.pem
rsa_private_key_file=$work/key.pem
CONF
/usr/sbin/vsftpd "$work/vsftpd.conf" > "$work/vsftpd.log" 2>&1 &
pids+=($!)
fport=$(free_port)
"$server" --root "$work/ferry" --port "$fport" --user bench:bench --cert "$work/cert.pem" \
  --key "$work/key.pem" --threads 2 > "$work/ferry.log" 2>&1 &
pids+=($!)
wait_port "$vport" && wait_port "$fport" || { echo "servers did not start" >&2; exit 1; }

# One ferry-ftp run in MB/s: the file size over the wall time of the whole program.
measure_ferry_ftp() {  # op tls
  local url="ftp://bench:bench@127.0.0.1:$fport" tls=() t0 t1
  [[ $2 == ftps ]] && tls=(--tls --insecure)
  t0=$(date +%s.%N)
  if [[ $1 == get ]]; then
    "$client" -q "${tls[@]}" get "$url/file" /dev/null
  else
    "$client" -q "${tls[@]}" put "$work/local/file" "$url/up-$RANDOM"
  fi
  t1=$(date +%s.%N)
  rm -f "$work"/ferry/up-*
  awk -v b=$((size_mb * 1024 * 1024)) -v a="$t0" -v z="$t1" 'BEGIN { printf "%.0f", b / (z - a) / 1e6 }'
}

# One measurement in MB/s (10^6 bytes per second).
measure() {  # server op tls
  local url auth tls=() speed
  if [[ $1 == ferry-ftp ]]; then measure_ferry_ftp "$2" "$3"; return; fi
  if [[ $1 == vsftpd ]]; then url="ftp://127.0.0.1:$vport/pub"; auth=anonymous:x
  else url="ftp://127.0.0.1:$fport"; auth=bench:bench; fi
  [[ $3 == ftps ]] && tls=(--ssl-reqd -k)
  if [[ $2 == get ]]; then
    speed=$(curl -sS "${tls[@]}" -u "$auth" -o /dev/null -w '%{speed_download}' "$url/file")
  else
    speed=$(curl -sS "${tls[@]}" -u "$auth" -T "$work/local/file" -w '%{speed_upload}' "$url/up-$RANDOM")
    rm -f "$work"/vs/pub/up-* "$work"/ferry/up-*
  fi
  awk -v s="$speed" 'BEGIN { printf "%.0f", s / 1e6 }'
}

stats() { sort -n | awk '{ a[NR] = $1 } END { printf "%d (%d-%d)", a[int((NR + 1) / 2)], a[1], a[NR] }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf "%-6s %-4s %-20s %-20s %-24s %-14s %s\n" mode op "curl<->vsftpd MB/s" "curl<->ferry MB/s" \
  "ferry-ftp<->ferry MB/s" "ferry/vsftpd" "ferry-ftp+ferry/vsftpd"
for tls in ftp ftps; do
  for op in get put; do
    v=(); f=(); c=()
    for _ in $(seq "$runs"); do
      v+=("$(measure vsftpd $op $tls)")
      f+=("$(measure ferry $op $tls)")
      c+=("$(measure ferry-ftp $op $tls)")
    done
    vm=$(printf "%s\n" "${v[@]}" | median)
    fm=$(printf "%s\n" "${f[@]}" | median)
    cm=$(printf "%s\n" "${c[@]}" | median)
    printf "%-6s %-4s %-20s %-20s %-24s %-14s %s\n" "$tls" "$op" "$(printf "%s\n" "${v[@]}" | stats)" \
      "$(printf "%s\n" "${f[@]}" | stats)" "$(printf "%s\n" "${c[@]}" | stats)" \
      "$(ratio "$fm" "$vm")" "$(ratio "$cm" "$vm")"
  done
done
