#!/bin/sh
# Turns a Debian root filesystem into a diffuser node image. Runs inside it
# (chroot after debootstrap, or RUN in the Dockerfile build), after the files
# under rootfs/ have been copied in. Must stay idempotent.
set -eu

# Host keys are made per container at first boot, never baked in.
rm -f /etc/ssh/ssh_host_*

# Empty machine-id: systemd makes a fresh one in each container.
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id
ln -s /etc/machine-id /var/lib/dbus/machine-id

# Docker writes /etc/hostname per container (during a Dockerfile build it
# is a bind mount that cannot be removed, and does not end up in the image).
rm -f /etc/hostname 2>/dev/null || :

# apt sources come from rootfs/etc/apt/sources.list.d/debian.sources.
rm -f /etc/apt/sources.list

mkdir -p /etc/systemd/system/multi-user.target.wants
ln -sf /lib/systemd/system/ssh.service /etc/systemd/system/multi-user.target.wants/ssh.service
ln -sf /lib/systemd/system/ssh.service /etc/systemd/system/sshd.service

# Units that make no sense in a container, or that would fight diffuser:
# apt-daily* take the dpkg lock behind a package step's back; getty has no
# console to talk to; e2scrub/fstrim would scan the host's loop devices;
# Docker provides /dev and the root mount, and the users exist since the
# build (packages installed later run systemd-sysusers themselves), so
# remount-fs, tmpfiles-setup-dev and sysusers only cost boot time (about
# 15% of launching 16 hosts on 2 cores).
for u in apt-daily.timer apt-daily-upgrade.timer apt-daily.service apt-daily-upgrade.service \
	e2scrub_all.timer e2scrub_reap.service fstrim.timer \
	getty.target console-getty.service getty@tty1.service \
	systemd-udevd.service systemd-udev-trigger.service systemd-modules-load.service \
	sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount \
	systemd-remount-fs.service systemd-tmpfiles-setup-dev.service systemd-sysusers.service; do
	rm -f /etc/systemd/system/*.wants/"$u"
	ln -sf /dev/null /etc/systemd/system/"$u"
done

# Nothing downloaded stays in the image; a package step runs apt-get update.
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt/* /var/log/dpkg.log /var/cache/debconf/*-old
