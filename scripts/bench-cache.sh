#!/usr/bin/env bash
# make bench-cache: a GlusterFS deploy (BENCH_CACHE_SIZES, default "2+1":
# servers+clients, replica 2, or 1 for an odd server count) on fresh docker hosts with the package cache off, then on
# (package_cache = "controller": the machine's apt-cacher-ng), twice: the
# first run with it on fetches what the cache lacks, the second finds it
# all there. Prints the apply's wall time, the package phase (first package
# step started to last one finished, across hosts) and the longest single
# package step, plus what apt-cacher-ng logged during the run (files from
# the mirror, files to hosts). Every cluster is destroyed, also on failure.
# BENCH_CACHE_MODES picks the runs: off, controller, or baked (the cache on
# and the recipe's packages baked into derived node images: the docker
# provider's packages setting, per host group); a baked run first times
# `diffuser image build` of the derived images (minutes the first time, a
# second or so when they exist) and reports it apart from the apply.
# It holds the machine's real-deployment lock (TMPDIR/diffuser-dockertest.lock,
# as the e2e tests do) while it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
lock=${TMPDIR:-/tmp}/diffuser-dockertest.lock
exec 9>>"$lock"
if ! flock -n 9; then
  echo "bench-cache: waiting for $lock (another real deployment runs) ..." >&2
  flock 9
fi
echo "bench-cache: started $(date -u '+%F %T') UTC, $(uptime | sed 's/.*load average/load average/')"
bin=$PWD/bin/diffuser
sizes=${BENCH_CACHE_SIZES:-2+1}
modes=${BENCH_CACHE_MODES:-off controller controller}
acnglog=/var/log/apt-cacher-ng/apt-cacher.log

work=$(mktemp -d /tmp/diffuser-bench-cache.XXXXXX)
data=$work/.diffuser
ws=
cleanup() {
  if [ -n "$ws" ]; then
    "$bin" destroy glusterfs --data-dir "$data" --workspace "$ws" --site "$work/site.hcl" -auto-approve >/dev/null 2>&1 \
      || echo "bench-cache: destroy failed; remove containers named diffuser-$ws-* by hand" >&2
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP # so that cleanup runs on a signal too

phase() { # state.json: package phase, longest package step (seconds)
  python3 - "$1" <<'PY'
import json, re, sys
from datetime import datetime
st = json.load(open(sys.argv[1]))
def t(s):  # RFC 3339 with up to nanoseconds, as Go writes it
    m = re.match(r"(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", s)
    frac = (m.group(2) or "0")[:6].ljust(6, "0")
    tz = "+00:00" if m.group(3) == "Z" else m.group(3)
    return datetime.fromisoformat(f"{m.group(1)}.{frac}{tz}")
spans = [(t(i["started"]), t(i["finished"])) for i in st.get("instances", {}).values() if i.get("kind") == "package"]
if not spans:
    print("- - 0")
    sys.exit(0)
first, last = min(s for s, _ in spans), max(f for _, f in spans)
longest = max((f - s).total_seconds() for s, f in spans)
print(f"{(last - first).total_seconds():.1f} {longest:.1f} {len(spans)}")
PY
}

printf '| hosts | package_cache | image build | apply | package phase | longest package step | package steps | from the mirror (files) | to hosts (files) |\n'
printf '|---|---|---:|---:|---:|---:|---:|---:|---:|\n'
run=0
for size in $sizes; do
  servers=${size%+*} clients=${size#*+}
  replica=2 # the recipe allows 1 to 3 copies and wants servers a multiple of it
  [ $((servers % 2)) = 0 ] || replica=1
  for mode in $modes; do
    run=$((run + 1))
    ws=bench-cache-$$-$run
    cache=$mode baked=
    if [ "$mode" = baked ]; then
      # The recipe's package steps' packages (recipes/glusterfs/main.hcl).
      cache=controller
      baked='  hosts "server" {\n    packages = ["glusterfs-server", "xfsprogs"]\n  }\n  hosts "client" {\n    packages = ["glusterfs-client"]\n  }\n'
    fi
    printf "default_provider = \"docker\"\nprovider \"docker\" {\n  extra_hosts = [%s]\n  package_cache = \"%s\"\n$baked}\n" \
      "$(scripts/mirror-hosts.sh)" "$cache" >"$work/site.hcl"
    before=$( [ -r $acnglog ] && wc -l <$acnglog || echo 0)
    build=-
    if [ "$mode" = baked ]; then
      s=$(date +%s.%N)
      if ! "$bin" image build --data-dir "$data" --site "$work/site.hcl" >"$work/image.log" 2>&1; then
        echo "bench-cache: image build failed:" >&2
        tail -n 20 "$work/image.log" >&2
        exit 1
      fi
      e=$(date +%s.%N)
      how=cached
      grep -q 'install packages: done' "$work/image.log" && how=built
      build=$(printf '%.1f s (%s)' "$(echo "$e - $s" | bc -l)" "$how")
      sed 's/^/bench-cache: image build: /' "$work/image.log" >&2
    fi
    s=$(date +%s.%N)
    if ! "$bin" apply glusterfs --data-dir "$data" --workspace "$ws" --site "$work/site.hcl" --progress plain \
      --var "servers=$servers" --var "replica=$replica" --var "clients=$clients" -auto-approve >"$work/apply.log" 2>&1; then
      echo "bench-cache: apply failed ($size, $mode):" >&2
      tail -n 20 "$work/apply.log" >&2
      keep=$(mktemp -d /tmp/diffuser-bench-cache-failed.XXXXXX)
      cp -a "$work/apply.log" "$data/$ws/runs" "$keep/" 2>/dev/null || true
      echo "bench-cache: the apply's output and step logs are in $keep" >&2
      exit 1
    fi
    e=$(date +%s.%N)
    read -r ph longest n < <(phase "$data/$ws/state.json" || echo "- - -")
    in=- out=-
    if [ "$mode" != off ] && [ -r $acnglog ]; then
      in=$(tail -n +$((before + 1)) $acnglog | awk -F'|' '$2=="I" && $5 ~ /\.deb$/' | wc -l)
      out=$(tail -n +$((before + 1)) $acnglog | awk -F'|' '$2=="O" && $5 ~ /\.deb$/' | wc -l)
    fi
    printf '| %s | %s | %s | %.1f s | %s s | %s s | %s | %s | %s |\n' "$size" "$mode" "$build" "$(echo "$e - $s" | bc -l)" "$ph" "$longest" "$n" "$in" "$out"
    "$bin" destroy glusterfs --data-dir "$data" --workspace "$ws" --site "$work/site.hcl" -auto-approve >/dev/null 2>&1 \
      || { echo "bench-cache: destroy of $ws failed" >&2; exit 1; }
    ws=
  done
done
