#!/usr/bin/env bash
# make soak RECIPE=NAME N=20: N fresh deploy + verify + destroy cycles of a
# built-in recipe on local containers, one after another. Prints each
# cycle's result and times, for each failure the failed step instances
# (step, host, log), and at the end the success rate. The work directory
# (default: a temporary one) keeps every cycle's runs and logs.
# Variables per recipe are the ones make e2e deploys; VARS="-var a=b ..."
# replaces them.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=$root/bin/diffuser
recipe=${RECIPE:?RECIPE=NAME}
n=${N:-20}
case "$recipe" in
  glusterfs) vars=${VARS:--var servers=2 -var replica=2 -var clients=1} ;;
  nfs)       vars=${VARS:--var server=ganesha -var mount=libnfs -var clients=2} ;;
  moosefs)   vars=${VARS:--var chunkservers=2 -var goal=2 -var clients=2 -var metaloggers=1} ;;
  ceph)      vars=${VARS:--var monitors=1 -var osds=3 -var clients=1 -var osd_size_gb=5} ;;
  *)         vars=${VARS:-} ;;
esac
dir=${SOAK_DIR:-$(mktemp -d /tmp/diffuser-soak-XXXXXX)}
mkdir -p "$dir"
cd "$dir" || exit 1
printf 'default_provider = "docker"\nprovider "docker" {\n  extra_hosts = [%s]\n}\n' "$("$root/scripts/mirror-hosts.sh")" > diffuser.hcl

ok=0
failed=()
cleanup() {
  # Whatever happened, leave nothing running.
  "$bin" destroy "$recipe" -auto-approve --progress quiet >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM
for i in $(seq 1 "$n"); do
  start=$(date +%s)
  result=ok
  # shellcheck disable=SC2086
  if ! "$bin" apply "$recipe" -auto-approve --progress quiet -remembered=false $vars > "apply-$i.log" 2>&1; then
    result="apply failed"
  elif ! "$bin" verify "$recipe" > "verify-$i.log" 2>&1; then
    result="verify failed"
  fi
  t_up=$(date +%s)
  cluster=$(grep -o '"cluster": *"[^"]*"' .diffuser/"$recipe"/state.json 2>/dev/null | sed 's/.*"\([^"]*\)"$/\1/')
  if ! "$bin" destroy "$recipe" -auto-approve --progress quiet > "destroy-$i.log" 2>&1; then
    [ "$result" = ok ] && result="destroy failed"
  fi
  end=$(date +%s)
  left=0
  [ -n "$cluster" ] && left=$(docker ps -aq --filter "label=diffuser.cluster=$cluster" | wc -l)
  if [ "$left" -gt 0 ] && [ "$result" = ok ]; then
    result="destroy left $left container(s)"
  fi
  printf 'soak %s cycle %d/%d: %s (deploy+verify %ds, destroy %ds)\n' "$recipe" "$i" "$n" "$result" $((t_up - start)) $((end - t_up))
  if [ "$result" = ok ]; then
    ok=$((ok + 1))
  else
    failed+=("$i")
    case "$result" in
      apply*)   grep -A6 'step instance(s) failed' "apply-$i.log" | sed 's/^/    /' ;;
      verify*)  grep -E 'FAIL|failed' "verify-$i.log" | sed 's/^/    /' ;;
      destroy*) tail -n 8 "destroy-$i.log" | sed 's/^/    /' ;;
    esac
    echo "    logs: $dir/apply-$i.log, $dir/.diffuser/$recipe/runs/ (diffuser runs $recipe --data-dir $dir/.diffuser)"
  fi
done
pct=$((100 * ok / n))
echo "soak $recipe: $ok of $n cycles succeeded ($pct%)${failed:+; failed cycles: ${failed[*]}}. Work directory: $dir"
[ "$ok" -eq "$n" ]
