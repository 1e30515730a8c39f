#!/usr/bin/env bash
# Installs what diffuser's build, tests and demo need on a Debian machine,
# idempotently: every step checks first, so a second run takes a second.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }
log() { printf 'setup: %s\n' "$*"; }

have debootstrap || need_apt+=(debootstrap)
[ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
have losetup || need_apt+=(util-linux)
have ip || need_apt+=(iproute2)
have tc || need_apt+=(iproute2)
have docker || need_apt+=(docker.io)
if [ "${DIFFUSER_SETUP_BROWSER:-1}" = 1 ]; then
  have chromium || need_apt+=(chromium)
fi

if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # openssh-server must not start a daemon on this machine: tests run their own.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd in the background (log: /var/log/dockerd-diffuser.log)"
  (nohup dockerd >/var/log/dockerd-diffuser.log 2>&1 &)
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { echo "setup: dockerd did not start; see /var/log/dockerd-diffuser.log" >&2; exit 1; }
fi

# systemd in every container takes inotify instances: at the default of 128
# per user, containers past ~25 hang in boot.
if [ "$(cat /proc/sys/fs/inotify/max_user_instances 2>/dev/null || echo 0)" -lt 8192 ]; then
  log "raising fs.inotify.max_user_instances to 8192"
  sysctl -qw fs.inotify.max_user_instances=8192 || true
  echo 'fs.inotify.max_user_instances = 8192' > /etc/sysctl.d/60-diffuser.conf 2>/dev/null || true
fi

# Loop devices for the docker provider's volumes.
[ -e /dev/loop-control ] || modprobe loop 2>/dev/null || true

# Go tools, pinned, into ./bin.
mkdir -p bin
if [ ! -x bin/staticcheck ]; then
  log "installing staticcheck"
  GOBIN="$PWD/bin" go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi
log "ready"
