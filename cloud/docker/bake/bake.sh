#!/bin/sh
# Installs the packages of the docker provider's `packages` setting into a
# node image derived from the built one (a RUN of diffuser's derived image
# build). Arguments: the package cache's URL or "-" for none, "--", then
# package names (checked by diffuser: [a-z0-9][a-z0-9+.-]+). There is no
# init in a build: no service may start, and units stay enabled or disabled
# as their packages say, so a recipe's steps find what they would after
# installing the packages themselves.
set -eu
proxy=$1
shift
[ "${1:-}" = -- ] && shift
export DEBIAN_FRONTEND=noninteractive

# invoke-rc.d (which maintainer scripts start services through when systemd
# is not running) asks policy-rc.d: 101 means "not now".
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d

opts="-q -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"

# apt-get update through the package cache, once more straight to the mirror
# when that fails (apt-get update exits 0 on "Failed to fetch").
update() {
	if [ "$proxy" != - ]; then
		if apt-get -q -o "Acquire::http::Proxy=$proxy" update >/tmp/diffuser-bake-update 2>&1 &&
			! grep -q 'Failed to fetch' /tmp/diffuser-bake-update; then
			cat /tmp/diffuser-bake-update
			rm -f /tmp/diffuser-bake-update
			return 0
		fi
		cat /tmp/diffuser-bake-update
		rm -f /tmp/diffuser-bake-update
		echo "bake: apt-get update through the package cache $proxy failed; again from the mirror"
	fi
	apt-get -q update
}

install() {
	# shellcheck disable=SC2086 # opts are words
	if [ "$proxy" != - ] && apt-get $opts -o "Acquire::http::Proxy=$proxy" install --no-install-recommends -- "$@"; then
		return 0
	fi
	[ "$proxy" = - ] || echo "bake: apt-get install through the package cache $proxy failed; again from the mirror"
	# shellcheck disable=SC2086
	apt-get $opts install --no-install-recommends -- "$@"
}

update
install "$@"

# What the node image's setup.sh guarantees, in case a maintainer script
# made any of it: no host keys, an empty machine-id, nothing downloaded.
rm -f /etc/ssh/ssh_host_* /usr/sbin/policy-rc.d "$0"
: >/etc/machine-id
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt/* /var/log/dpkg.log /var/cache/debconf/*-old
