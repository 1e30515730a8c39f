#!/usr/bin/env bash
# Installs what diffuser needs on a Debian machine, idempotently: every step
# checks first, so a run with everything present takes well under a second.
#
#   scripts/setup.sh demo   what make demo needs: a running Docker Engine,
#                           debootstrap (the node image), losetup, the loop
#                           module, inotify limits for many containers, and
#                           a running apt-cacher-ng on port 3142: the docker
#                           provider's package_cache = "controller" (its
#                           default) fetches each package from the mirror
#                           once for every cluster, test and demo on this
#                           machine. DIFFUSER_SETUP_PACKAGE_CACHE=0 leaves it
#                           out (hosts then fetch directly, after a refused
#                           connection to the cache).
#   scripts/setup.sh lint   staticcheck, pinned, into ./bin
#   scripts/setup.sh [all]  both, plus what the tests need: sshd (remote's
#                           tests run real OpenSSH servers), tc (bandwidth
#                           benchmarks), fio (probe's bench scripts run for
#                           real), dpkg-dev and gnupg (builtin/package-repo's
#                           test signs an apt repository), chromium (the
#                           timeline and compare pages;
#                           DIFFUSER_SETUP_BROWSER=0 leaves it out)
#
# It prints a line for what it installs or starts and nothing else; package
# manager output goes to a log whose tail is printed if it fails.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-all}
case $mode in
  demo | lint | all) ;;
  *) echo "usage: scripts/setup.sh [demo|lint|all]" >&2; exit 2 ;;
esac

log() { printf 'setup: %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }
aptlog=${TMPDIR:-/tmp}/diffuser-setup.log
failed() {
  echo "setup: $1 failed; last lines of $aptlog:" >&2
  tail -n 20 "$aptlog" | sed 's/^/  | /' >&2
  exit 1
}

need_apt=()
if [ "$mode" != lint ]; then
  have docker || need_apt+=(docker.io)
  have debootstrap || need_apt+=(debootstrap)
  have losetup || need_apt+=(mount)
  if [ "${DIFFUSER_SETUP_PACKAGE_CACHE:-1}" = 1 ]; then
    [ -x /usr/sbin/apt-cacher-ng ] || need_apt+=(apt-cacher-ng)
  fi
fi
if [ "$mode" = all ]; then
  [ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
  { have tc && have ip; } || need_apt+=(iproute2)
  have sudo || need_apt+=(sudo) # remote's tests of the sudo path (a non-root login)
  have fio || need_apt+=(fio)   # probe's bench scripts run for real with fio, not only dd
  # builtin/package-repo's real test builds and signs an apt repository.
  have dpkg-scanpackages || need_apt+=(dpkg-dev)
  have gpg || need_apt+=(gnupg)
  if [ "${DIFFUSER_SETUP_BROWSER:-1}" = 1 ]; then
    have chromium || need_apt+=(chromium)
  fi
fi

if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]} (log: $aptlog)"
  export DEBIAN_FRONTEND=noninteractive
  : >"$aptlog"
  apt-get update -q >>"$aptlog" 2>&1 || failed "apt-get update"
  # openssh-server must not start a daemon on this machine: tests run their own.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -q --no-install-recommends "${need_apt[@]}" >>"$aptlog" 2>&1 || failed "apt-get install"
fi

if [ "$mode" != lint ]; then
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

  # The package cache of docker clusters (package_cache = "controller"):
  # apt-cacher-ng listens on every address, so containers reach it at
  # their network's gateway.
  # apt-cacher-ng sends a request for any known Debian mirror to its
  # backend (backends_debian, ftp.debian.org when empty): name this
  # machine's own Debian mirror there, as Debian's debconf question would.
  acng_backends=/etc/apt-cacher-ng/backends_debian
  acng_restart=0
  if [ "${DIFFUSER_SETUP_PACKAGE_CACHE:-1}" = 1 ] && [ -d /etc/apt-cacher-ng ] && ! grep -qs '^[^#[:space:]]' "$acng_backends"; then
    mirror=$( (grep -hE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true) \
      | grep -oE 'http://[^ ]+/debian/?( |$)' | head -n 1 | tr -d ' ')
    if [ -n "$mirror" ]; then
      log "apt-cacher-ng: Debian backend $mirror (this machine's mirror)"
      printf '%s\n' "${mirror%/}/" >"$acng_backends"
      acng_restart=1
    fi
  fi
  if [ "${DIFFUSER_SETUP_PACKAGE_CACHE:-1}" = 1 ] && [ "$acng_restart" = 1 ] && (exec 3<>/dev/tcp/127.0.0.1/3142) 2>/dev/null; then
    if [ -d /run/systemd/system ]; then systemctl restart apt-cacher-ng >>"$aptlog" 2>&1 || true
    else /etc/init.d/apt-cacher-ng restart >>"$aptlog" 2>&1 || true; fi
  fi
  if [ "${DIFFUSER_SETUP_PACKAGE_CACHE:-1}" = 1 ] && ! (exec 3<>/dev/tcp/127.0.0.1/3142) 2>/dev/null; then
    log "starting apt-cacher-ng (the package cache of docker clusters; cache in /var/cache/apt-cacher-ng)"
    if [ -d /run/systemd/system ]; then
      systemctl enable --now apt-cacher-ng >>"$aptlog" 2>&1 || failed "starting apt-cacher-ng"
    else
      /etc/init.d/apt-cacher-ng start >>"$aptlog" 2>&1 || failed "starting apt-cacher-ng"
    fi
  fi

  # Loop devices for the docker provider's volumes.
  [ -e /dev/loop-control ] || modprobe loop 2>/dev/null || true
fi

# Go tools, pinned, into ./bin: go install needs no go.mod entry.
if [ "$mode" != demo ] && [ ! -x bin/staticcheck ]; then
  log "installing staticcheck"
  mkdir -p bin
  GOBIN="$PWD/bin" go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi
