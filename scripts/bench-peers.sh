#!/usr/bin/env bash
# make bench-peers: 20 trivial steps per host on 4 and 16 docker hosts, run
# side by side on the same containers by diffuser, Ansible (defaults, and
# tuned: pipelining, strategy free, forks=N) and OpenSSH (a connection per
# command, and ControlMaster), with ratios. Installs ansible-core from
# Debian when missing. Then a GlusterFS deploy (BENCH_PEERS_GLUSTER,
# servers+clients, default 2+1; empty skips it): diffuser's builtin recipe
# on fresh hosts against an Ansible playbook doing the same work
# (bench/peers/glusterfs.yml) on fresh hosts of the same shape, both
# fetching packages straight from the mirror (package_cache = "off").
# Containers go with their workspace, also on failure.
# BENCH_PEERS_SIZES="4 16" and BENCH_PEERS_TIMEOUT (seconds per tool run,
# default 600) bound it. It holds the machine's real-deployment lock
# (TMPDIR/diffuser-dockertest.lock, as the e2e tests do) while it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${BENCH_PEERS_SIZES-4 16}
gluster=${BENCH_PEERS_GLUSTER-2+1}
limit=${BENCH_PEERS_TIMEOUT:-600}
bin=$PWD/bin/diffuser

lock=${TMPDIR:-/tmp}/diffuser-dockertest.lock
exec 9>>"$lock"
if ! flock -n 9; then
  echo "bench-peers: waiting for $lock (another real deployment runs) ..." >&2
  flock 9
fi
load() { uptime | sed 's/.*load average/load average/'; }
echo "bench-peers: started $(date -u '+%F %T') UTC, $(load)"

if ! command -v ansible-playbook >/dev/null 2>&1; then
  echo "installing ansible-core (Debian package) ..."
  sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y -qq ansible-core >/dev/null
fi

work=$(mktemp -d /tmp/diffuser-bench-peers.XXXXXX)
data=$work/.diffuser
ws=bench-peers-$$
# Workspaces that may hold containers: recipe and workspace, destroyed at exit.
live=()
destroy_ws() { # recipe workspace
  "$bin" destroy "$1" --data-dir "$data" --workspace "$2" -auto-approve >/dev/null 2>&1 \
    || { echo "bench-peers: destroy failed; remove containers named diffuser-$2-* by hand" >&2; return 1; }
}
forget_ws() { # workspace: destroyed already
  local i keep=()
  for ((i = 0; i < ${#live[@]}; i += 2)); do [ "${live[i + 1]}" = "$1" ] || keep+=("${live[i]}" "${live[i + 1]}"); done
  live=("${keep[@]}")
}
cleanup() {
  local i
  echo "bench-peers: ended $(date -u '+%F %T') UTC, $(load)"
  for ((i = 0; i < ${#live[@]}; i += 2)); do destroy_ws "${live[i]}" "${live[i + 1]}" || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP # so that cleanup runs on a signal too
mirror=$(scripts/mirror-hosts.sh)
printf 'default_provider = "docker"\nprovider "docker" {\n  extra_hosts = [%s]\n}\n' "$mirror" >"$work/site.hcl"
printf 'default_provider = "docker"\nprovider "docker" {\n  extra_hosts = [%s]\n  package_cache = "off"\n}\n' "$mirror" >"$work/site-off.hcl"
live+=("$PWD/bench/trivial.hcl" "$ws")

apply() { # round
  timeout "$limit" "$bin" apply "$PWD/bench/trivial.hcl" --data-dir "$data" --workspace "$ws" --site "$work/site.hcl" \
    --var "hosts=$n" --var "round=$1" -auto-approve >"$work/apply.log" 2>&1 \
    || { tail -n 30 "$work/apply.log" >&2; return 1; }
}
secs() { # command... : prints the wall seconds it took, or "failed" (its log tail on stderr)
  local s e
  s=$(date +%s.%N)
  if ! "$@" >"$work/out.log" 2>&1; then
    echo "bench-peers: failed or over ${limit}s: $*" >&2
    tail -n 5 "$work/out.log" >&2
    printf failed
    return 0
  fi
  e=$(date +%s.%N)
  echo "$e - $s" | bc -l | xargs printf '%.2f'
}
cell() { # seconds or failed
  if [[ $1 =~ ^[0-9.]+$ ]]; then printf '%s s' "$1"; elif [ "$1" = - ]; then printf -- -; else printf '%s (over %ss)' "$1" "$limit"; fi
}
ratio() { # a b: a/b, or - when either is not a number
  if [[ $1 =~ ^[0-9.]+$ && $2 =~ ^[0-9.]+$ ]]; then printf '%.1fx' "$(echo "$1 / $2" | bc -l)"; else printf -- -; fi
}

ssh_each() { # control(yes|no): 20 commands per host, hosts at once
  local pids=() i
  for i in $(seq 0 $((n - 1))); do
    (
      opts=(-F none -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i "$key")
      if [ "$1" = yes ]; then
        opts+=(-o ControlMaster=auto -o "ControlPath=$work/cm-%C" -o ControlPersist=60)
      fi
      for s in $(seq -w 1 20); do timeout "$limit" ssh "${opts[@]}" -p "${port[$i]}" "root@${addr[$i]}" "echo 1 $s >/dev/null"; done
    ) &
    pids+=($!)
  done
  local rc=0
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return $rc
}
ssh_close_masters() {
  local i
  for i in $(seq 0 $((n - 1))); do
    ssh -F none -o "ControlPath=$work/cm-%C" -O exit -p "${port[$i]}" "root@${addr[$i]}" >/dev/null 2>&1 || true
  done
}

{
  echo "- name: 20 trivial steps"
  echo "  hosts: all"
  echo "  gather_facts: false"
  echo "  tasks:"
  for s in $(seq -w 1 20); do
    echo "    - name: t$s"
    echo "      ansible.builtin.command: echo 1 $s"
  done
} >"$work/trivial.yml"

[ -z "$sizes" ] || printf '\n| hosts | diffuser | OpenSSH, a connection per command | OpenSSH ControlMaster | Ansible defaults | Ansible tuned | tuned Ansible / diffuser | ControlMaster / diffuser |\n'
[ -z "$sizes" ] || printf '|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for n in $sizes; do
  apply 0 # launch, first run: not timed
  addr=() port=()
  key=$data/$ws/id_ed25519
  echo "all:" >"$work/hosts.yml"
  echo "  hosts:" >>"$work/hosts.yml"
  for i in $(seq 0 $((n - 1))); do
    line=$("$bin" ssh "$ws" "node[$i]" --data-dir "$data" --print)
    a=$(grep -oE 'root@[^ ]+' <<<"$line" | head -1); a=${a#root@}
    p=$(grep -oE -- '-p [0-9]+' <<<"$line" | awk '{print $2}'); p=${p:-22}
    addr+=("$a"); port+=("$p")
    printf '    node%d: {ansible_host: %s, ansible_port: %s, ansible_user: root, ansible_ssh_private_key_file: %s}\n' "$i" "$a" "$p" "$key" >>"$work/hosts.yml"
  done
  export ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_PYTHON_INTERPRETER=auto_silent ANSIBLE_NOCOLOR=1
  # Ansible's modules need python3 on the hosts: installed untimed.
  secs timeout "$limit" ansible all -i "$work/hosts.yml" -f "$n" -m raw \
    -a 'command -v python3 >/dev/null || { apt-get update -qq && apt-get install -y -qq python3-minimal; }' >/dev/null
  t_diff=$(secs apply $((1000 + n))) # every instance changed: all 20×n run
  t_ssh=$(secs ssh_each no)
  t_cm=$(secs ssh_each yes); ssh_close_masters
  t_ans=$(secs timeout "$limit" ansible-playbook -i "$work/hosts.yml" "$work/trivial.yml")
  t_tun=$(ANSIBLE_PIPELINING=True ANSIBLE_STRATEGY=free ANSIBLE_FORKS=$n secs timeout "$limit" ansible-playbook -i "$work/hosts.yml" "$work/trivial.yml")
  printf '| %d | %s | %s | %s | %s | %s | %s | %s |\n' "$n" "$(cell "$t_diff")" "$(cell "$t_ssh")" "$(cell "$t_cm")" \
    "$(cell "$t_ans")" "$(cell "$t_tun")" \
    "$(ratio "$t_tun" "$t_diff")" "$(ratio "$t_cm" "$t_diff")"
done

if [ -n "$sizes" ]; then
  destroy_ws "$PWD/bench/trivial.hcl" "$ws" && forget_ws "$ws"
fi
[ -n "$gluster" ] || exit 0
echo
echo "bench-peers: GlusterFS $gluster from $(date -u '+%T') UTC, $(load)"
export ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_PYTHON_INTERPRETER=auto_silent ANSIBLE_NOCOLOR=1
servers=${gluster%+*} clients=${gluster#*+}
gvars=(--var "servers=$servers" --var "clients=$clients")

# diffuser first (a mirror warmed by the first run helps the second): the
# builtin recipe from nothing, the launch of the hosts included.
dws=bench-peers-gl-diffuser-$$
live+=(glusterfs "$dws")
t_gdiff=$(secs timeout "$limit" "$bin" apply glusterfs --data-dir "$data" --workspace "$dws" --site "$work/site-off.hcl" \
  "${gvars[@]}" --var "replica=$servers" -auto-approve)
if [[ $t_gdiff =~ ^[0-9.]+$ ]] && ! "$bin" ssh "$dws" 'client[0]' --data-dir "$data" -- mountpoint -q /mnt/gluster; then
  echo "bench-peers: diffuser's apply finished but /mnt/gluster is not mounted on client[0]" >&2
  t_gdiff=failed
fi
destroy_ws glusterfs "$dws" && forget_ws "$dws"

# Ansible: hosts of the recipe's shape (a brick volume per server) launched
# by diffuser, python3 and python3-apt (the apt module's) on them, untimed,
# then the playbook, tuned.
gws=bench-peers-gl-ansible-$$
live+=("$PWD/bench/gluster-hosts.hcl" "$gws")
t_launch=$(secs timeout "$limit" "$bin" apply "$PWD/bench/gluster-hosts.hcl" --data-dir "$data" --workspace "$gws" \
  --site "$work/site-off.hcl" "${gvars[@]}" -auto-approve)
"$bin" hosts "$gws" --data-dir "$data" --json >"$work/gl-hosts.json"
python3 - "$work/gl-hosts.json" "$data/$gws/id_ed25519" >"$work/gl-inventory.yml" <<'PY'
import json, sys
hosts, key = json.load(open(sys.argv[1])), sys.argv[2]
groups = {}
for h in hosts:
    groups.setdefault(h["group"], []).append(h)
print("all:\n  children:")
for g in sorted(groups):
    print(f"    {g}:\n      hosts:")
    for h in sorted(groups[g], key=lambda h: h["index"]):
        v = {"ansible_host": h["ssh"]["address"], "ansible_port": h["ssh"]["port"], "ansible_user": h["ssh"]["user"],
             "ansible_ssh_private_key_file": key, "private_ip": h["private_ip"]}
        if "brick" in h.get("volumes", {}):
            v["brick_device"] = h["volumes"]["brick"]["device"]
        print(f"        {g}{h['index']}: {json.dumps(v)}")
PY
secs timeout "$limit" ansible all -i "$work/gl-inventory.yml" -f 8 -m raw \
  -a 'dpkg -s python3-apt >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq python3-apt; }' >/dev/null
t_gans=$(ANSIBLE_PIPELINING=True ANSIBLE_FORKS=8 secs timeout "$limit" ansible-playbook -i "$work/gl-inventory.yml" "$PWD/bench/peers/glusterfs.yml")
cp "$work/out.log" "$work/gl-ansible.log"
if [[ $t_gans =~ ^[0-9.]+$ ]] && ! "$bin" ssh "$gws" 'client[0]' --data-dir "$data" -- mountpoint -q /mnt/gluster; then
  echo "bench-peers: the playbook finished but /mnt/gluster is not mounted on client[0]" >&2
  t_gans=failed
fi
destroy_ws "$PWD/bench/gluster-hosts.hcl" "$gws" && forget_ws "$gws"
t_gdeploy=-
if [[ $t_gdiff =~ ^[0-9.]+$ && $t_launch =~ ^[0-9.]+$ ]]; then
  t_gdeploy=$(echo "$t_gdiff - $t_launch" | bc -l | xargs printf '%.2f')
fi

printf '\n| GlusterFS | diffuser apply (launch included) | launching the hosts alone | diffuser minus launch | Ansible playbook (pipelining, forks 8) | Ansible / diffuser | Ansible / (diffuser minus launch) |\n'
printf '|---|---:|---:|---:|---:|---:|---:|\n'
printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$gluster" "$(cell "$t_gdiff")" "$(cell "$t_launch")" "$(cell "$t_gdeploy")" \
  "$(cell "$t_gans")" "$(ratio "$t_gans" "$t_gdiff")" "$(ratio "$t_gans" "$t_gdeploy")"
