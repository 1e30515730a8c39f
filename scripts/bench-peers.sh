#!/usr/bin/env bash
# make bench-peers: 20 trivial steps per host on 4 and 16 docker hosts, run
# side by side on the same containers by diffuser, Ansible (defaults, and
# tuned: pipelining, strategy free, forks=N) and OpenSSH (a connection per
# command, and ControlMaster), with ratios. Installs ansible-core from
# Debian when missing. Containers go with the workspace, also on failure.
# BENCH_PEERS_SIZES="4 16" and BENCH_PEERS_TIMEOUT (seconds per tool run,
# default 600) bound it.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${BENCH_PEERS_SIZES:-4 16}
limit=${BENCH_PEERS_TIMEOUT:-600}
bin=$PWD/bin/diffuser

if ! command -v ansible-playbook >/dev/null 2>&1; then
  echo "installing ansible-core (Debian package) ..."
  sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y -qq ansible-core >/dev/null
fi

work=$(mktemp -d /tmp/diffuser-bench-peers.XXXXXX)
data=$work/.diffuser
ws=bench-peers-$$
cleanup() {
  "$bin" destroy "$PWD/bench/trivial.hcl" --data-dir "$data" --workspace "$ws" -auto-approve >/dev/null 2>&1 \
    || echo "bench-peers: destroy failed; remove containers named diffuser-$ws-* by hand" >&2
  rm -rf "$work"
}
trap cleanup EXIT
printf 'default_provider = "docker"\nprovider "docker" {\n  extra_hosts = [%s]\n}\n' "$(scripts/mirror-hosts.sh)" >"$work/site.hcl"

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
  if [[ $1 =~ ^[0-9.]+$ ]]; then printf '%s s' "$1"; else printf '%s (over %ss)' "$1" "$limit"; fi
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

printf '\n| hosts | diffuser | OpenSSH, a connection per command | OpenSSH ControlMaster | Ansible defaults | Ansible tuned | tuned Ansible / diffuser | ControlMaster / diffuser |\n'
printf '|---:|---:|---:|---:|---:|---:|---:|---:|\n'
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
