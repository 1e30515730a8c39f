#!/usr/bin/env bash
# Prints, as HCL list items, the extra_hosts entries containers need to reach
# this machine's apt mirrors by the same addresses the machine uses.
set -euo pipefail
hosts=$( (grep -hE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true) \
  | grep -oE 'https?://[^/ ]+' | sed -E 's#https?://##' | sort -u)
first=1
for h in $hosts; do
  ip=$(getent ahostsv4 "$h" 2>/dev/null | awk '{print $1; exit}')
  [ -n "$ip" ] || continue
  [ $first = 1 ] || printf ', '
  printf '"%s:%s"' "$h" "$ip"
  first=0
done
echo
