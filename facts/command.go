package facts

// Command prints every source of facts in a section that starts with a
// line "@@facts:NAME". It is the same on every host (no value of the
// recipe, site or user is in it), needs no root, and stays POSIX sh so
// that busybox hosts (Alpine) answer too: where lsblk is missing the
// devices come from /sys/block and /proc/mounts. Files are read by the
// shell's own read (os-release, MemTotal): each process a host starts for
// it costs a fork and an exec, and a plan with refresh asks every host.
// The CapBnd line of /proc/self/status is read the same way, so the
// capabilities are those of the shell the login session started; so are
// the cgroup limits on memory and CPU time of its cgroup and every cgroup
// above it (v2 memory.max and cpu.max, v1 memory.limit_in_bytes and
// cpu.cfs_quota_us with cpu.cfs_period_us), which bound the memory and
// cores a container has (docker run --memory, --cpus) below the
// machine's MemTotal and nproc.
const Command = stableSections + deviceSections + endSection

// StableCommand is Command without the devices (lsblk, the heaviest of
// its programs): what a plan's refresh asks a host whose facts state
// records, since the devices a refresh finds change nothing (they are
// what the host had when its facts were last recorded; engine.stable).
const StableCommand = stableSections + endSection

// stableSections print the facts other than devices. A file read by
// catFile that lacks its last newline still ends its section.
const stableSections = `LC_ALL=C; export LC_ALL
catFile() { while IFS= read -r l || [ -n "$l" ]; do printf '%s\n' "$l"; done <"$1"; }
echo '@@facts:os-release'
{ catFile /etc/os-release || catFile /usr/lib/os-release; } 2>/dev/null
echo '@@facts:uname-m'
uname -m 2>/dev/null
echo '@@facts:dpkg-arch'
dpkg --print-architecture 2>/dev/null
echo '@@facts:rpm-arch'
command -v dpkg >/dev/null 2>&1 || rpm --eval '%{_arch}' 2>/dev/null
echo '@@facts:nproc'
nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || grep -c '^processor' /proc/cpuinfo 2>/dev/null
echo '@@facts:meminfo'
{ while IFS= read -r l; do case $l in MemTotal:*) printf '%s\n' "$l"; break ;; esac; done </proc/meminfo; } 2>/dev/null
echo '@@facts:cgroup'
{ while IFS=: read -r _ c p; do
  case ,$c, in
  ,,) b=/sys/fs/cgroup; f='memory.max cpu.max' ;;
  *,memory,*) b=/sys/fs/cgroup/memory; f=memory.limit_in_bytes ;;
  *,cpu,*) b=/sys/fs/cgroup/cpu; f=cpu.cfs_quota_us ;;
  *) continue ;;
  esac
  while :; do
    for n in $f; do
      v=; read -r v <"$b${p%/}/$n" && printf '%s %s' "$n" "$v" && case $n in
      cpu.cfs_quota_us) v=; read -r v <"$b${p%/}/cpu.cfs_period_us"; printf ' %s\n' "$v" ;;
      *) echo ;;
      esac
    done
    case $p in /|'') break ;; esac
    p=${p%/*}
  done
done </proc/self/cgroup; } 2>/dev/null
echo '@@facts:capbnd'
{ while IFS= read -r l; do case $l in CapBnd:*) printf '%s\n' "$l"; break ;; esac; done </proc/self/status; } 2>/dev/null
`

// deviceSections print the block devices, then the names of the block
// device nodes in /dev and /dev/mapper (lsblk names a device-mapper
// device by its /dev/mapper name): /sys/block is not namespaced, so a
// container lists every device of its machine but holds nodes only for
// those passed to it.
const deviceSections = `if command -v lsblk >/dev/null 2>&1; then
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
echo '@@facts:devnodes'
for d in /dev/* /dev/mapper/*; do [ -b "$d" ] && printf '%s\n' "${d##*/}"; done
`

const endSection = `echo '@@facts:end'
`
