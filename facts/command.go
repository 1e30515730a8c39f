package facts

// Command prints every source of facts in a section that starts with a
// line "@@facts:NAME". It is the same on every host (no value of the
// recipe, site or user is in it), needs no root, and stays POSIX sh so
// that busybox hosts (Alpine) answer too: where lsblk is missing the
// devices come from /sys/block and /proc/mounts.
const Command = `LC_ALL=C; export LC_ALL
echo '@@facts:os-release'
cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null
echo '@@facts:uname-m'
uname -m 2>/dev/null
echo '@@facts:dpkg-arch'
dpkg --print-architecture 2>/dev/null
echo '@@facts:rpm-arch'
command -v dpkg >/dev/null 2>&1 || rpm --eval '%{_arch}' 2>/dev/null
echo '@@facts:nproc'
nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || grep -c '^processor' /proc/cpuinfo 2>/dev/null
echo '@@facts:meminfo'
grep '^MemTotal:' /proc/meminfo 2>/dev/null
if command -v lsblk >/dev/null 2>&1; then
  echo '@@facts:lsblk'
  lsblk -b -P -o NAME,SIZE,TYPE,MOUNTPOINT,FSTYPE 2>/dev/null
else
  echo '@@facts:sysblock'
  for d in /sys/block/*; do
    [ -e "$d/size" ] || continue
    echo "${d##*/} $(cat "$d/size" 2>/dev/null)"
  done
  echo '@@facts:mounts'
  cat /proc/mounts 2>/dev/null
fi
echo '@@facts:end'
`
