recipe "moosefs" {
  description = "MooseFS: one master, metaloggers, chunkservers on their own volumes, FUSE clients (mfsmount); goal = copies of every chunk"
  # What MooseFS listens on; cloud providers document them on the cluster firewall.
  ports = [
    "22/tcp ssh",
    "9419/tcp master: metaloggers",
    "9420/tcp master: chunkservers",
    "9421/tcp master: clients",
    "9422/tcp chunkservers: clients and other chunkservers",
  ]
}

variable "chunkservers" {
  type        = number
  default     = 3
  description = "Number of chunkservers, one data volume each. At least goal. Raise it and apply again to add capacity: the master spreads new chunks and rebalances by itself."
  min         = 1
  integer     = true
}

variable "goal" {
  type        = number
  default     = 2
  description = "Copies of every chunk (MooseFS's goal, set recursively on the filesystem root): 1 = no redundancy, 2 or more survive goal-1 chunkservers down. At most the number of chunkservers."
  min         = 1
  max         = 9
  integer     = true
}

variable "metaloggers" {
  type        = number
  default     = 1
  description = "Number of metalogger hosts: each keeps a copy of the master's metadata and changelogs, from which a lost master can be rebuilt (mfsmaster -a). 0 = none."
  min         = 0
  integer     = true
}

variable "clients" {
  type        = number
  default     = 1
  description = "Number of client hosts that mount the filesystem with mfsmount at /mnt/moosefs."
  min         = 0
  integer     = true
}

variable "chunk_volume_gb" {
  type        = number
  default     = 2
  description = "Size of each chunkserver's data volume."
  min         = 1
  integer     = true
}

variable "allowed_network" {
  type        = string
  default     = ""
  description = "Who may mount, as an mfsexports.cfg address (\"10.0.0.0/16\", \"*\"). Empty: only this recipe's client hosts, one line each."
  pattern     = "[*]|[0-9.]+(/[0-9]+)?|[0-9.]+-[0-9.]+"
  allow_empty = true
}

locals {
  # MooseFS CE has one master; everything else finds it by address.
  master_ip  = hosts.master[0].private_ip
  mountpoint = "/mnt/moosefs"
  chunk_fs   = "/mnt/mfschunks"
  # Chunks go in a subfolder of the volume, never its root (Debian's
  # README.Debian asks for this): if the volume is not mounted, the folder is
  # missing and unusable, instead of the chunkserver silently initialising
  # and filling the empty mount point on the root filesystem.
  chunk_dir = "${local.chunk_fs}/moosefs"
  # How many chunkservers the master lists connected: mfscli prints
  # connected ones as "chunk servers:" and stopped ones as "Disconnected
  # chunk servers:". The master's live view, not its chunk statistics.
  connected_chunkservers     = "mfscli -H ${local.master_ip} -SCS -p -n 2>/dev/null | grep -c '^chunk servers:'"
  all_chunkservers_connected = "[ \"$(${local.connected_chunkservers})\" -ge ${var.chunkservers} ]"

  exports_from = var.allowed_network != "" ? [var.allowed_network] : [for h in hosts.client : h.private_ip]
  # "/" : the filesystem; "." : the meta filesystem (trash, for undeleting).
  # maproot=0:0 keeps root as root (the default squashes it); admin allows
  # mfsscadmin (storage classes) from these hosts.
  exports = join("", concat(["# Written by diffuser (recipe moosefs). Syntax: mfsexports.cfg(5).\n"],
  [for a in local.exports_from : "${a} / rw,alldirs,admin,maproot=0:0\n${a} . rw\n"]))
  master_cfg      = <<-EOT
    # Written by diffuser (recipe moosefs). Everything else: defaults of mfsmaster.cfg(5).
    WORKING_USER = mfs
    WORKING_GROUP = mfs
    DATA_PATH = /var/lib/mfs
    EXPORTS_FILENAME = /etc/mfs/mfsexports.cfg
  EOT
  chunkserver_cfg = <<-EOT
    # Written by diffuser (recipe moosefs). Everything else: defaults of mfschunkserver.cfg(5).
    WORKING_USER = mfs
    WORKING_GROUP = mfs
    DATA_PATH = /var/lib/mfs
    HDD_CONF_FILENAME = /etc/mfs/mfshdd.cfg
    # The default is the name "mfsmaster", which nothing here resolves.
    MASTER_HOST = ${local.master_ip}
    MASTER_PORT = 9420
  EOT
  hdd_cfg         = <<-EOT
    # Written by diffuser (recipe moosefs): one storage folder per line, mfshdd.cfg(5).
    ${local.chunk_dir}
  EOT
  metalogger_cfg  = <<-EOT
    # Written by diffuser (recipe moosefs). Everything else: defaults of mfsmetalogger.cfg(5).
    WORKING_USER = mfs
    WORKING_GROUP = mfs
    DATA_PATH = /var/lib/mfs
    MASTER_HOST = ${local.master_ip}
    MASTER_PORT = 9419
  EOT
  fstab_line      = "mfsmount ${local.mountpoint} fuse mfsmaster=${local.master_ip},mfsport=9421,_netdev 0 0"

  start_chunkserver = <<-EOT
    systemctl start moosefs-chunkserver || exit 1
    for i in $(seq 1 60); do
      mfscli -H ${local.master_ip} -SCS -p -n 2>/dev/null | awk -F'\t' '$1 == "chunk servers:" && $2 == "${hosts.chunkserver[0].private_ip}" { f = 1 } END { exit !f }' && exit 0
      sleep 1
    done
    echo "the master does not list chunkserver[0] again" >&2
    exit 1
  EOT
}

hosts "master" {
  count = 1
}

hosts "metalogger" {
  count = var.metaloggers
}

hosts "chunkserver" {
  count = var.chunkservers
  volume "chunks" { size_gb = var.chunk_volume_gb }
  # What a replaced chunkserver's data goes through (step.rereplicated).
  replace_note = (var.goal >= 2 ?
    "the chunks on the old chunkserver are gone; the master copies every chunk left with fewer than ${var.goal} copies from the others, and the apply waits until every file is back at goal ${var.goal}; the filesystem stays readable meanwhile; a live chunkserver is stopped first, once the master reports no chunk missing or under goal" :
  "goal 1 (one copy of every chunk): the chunks on the old chunkserver are lost; the new one starts empty; a live chunkserver is refused (its drain fails: raise goal first, or stop it and replace it as dead)")

  # A goal the cluster cannot hold is refused before anything is launched.
  precondition {
    condition     = var.goal <= var.chunkservers
    error_message = "goal (${var.goal}) is more than chunkservers (${var.chunkservers}): every chunk would stay undergoal. Raise chunkservers or lower goal."
  }
}

hosts "client" {
  count = var.clients
}

# ---- master ----

step "master_packages" {
  on = hosts.master
  # Debian 12 and Ubuntu ship these; on RHEL-family hosts add MooseFS's own
  # repository first (same package names).
  package = ["moosefs-master", "moosefs-cli"]
}

step "metadata" {
  on    = hosts.master
  after = [step.master_packages]
  # A new master needs an empty metadata file to start from. A running
  # master keeps it as metadata.mfs.back, so either name means "this master
  # has metadata": never overwrite it, that would empty the filesystem.
  run    = "install -o mfs -g mfs -m 0640 /var/lib/mfs/metadata.mfs.empty /var/lib/mfs/metadata.mfs"
  unless = "test -e /var/lib/mfs/metadata.mfs || test -e /var/lib/mfs/metadata.mfs.back"
}

# mfsmaster.cfg, mfsexports.cfg and the master, reloaded when either file
# changes (new clients may mount without a restart).
module "master" {
  source = "./modules/daemon"
  after  = [step.metadata]
  hosts  = hosts.master
  name   = "master"
  config = local.master_cfg
  also   = { path = "/etc/mfs/mfsexports.cfg", content = local.exports }
}

# ---- metaloggers ----

step "metalogger_packages" {
  on      = hosts.metalogger
  package = ["moosefs-metalogger"]
}

module "metalogger" {
  source = "./modules/daemon"
  after  = [step.metalogger_packages]
  hosts  = hosts.metalogger
  name   = "metalogger"
  config = local.metalogger_cfg
}

# ---- chunkservers ----

step "chunkserver_packages" {
  on = hosts.chunkserver
  # moosefs-cli: mfscli, to ask the master about this chunkserver.
  package = ["moosefs-chunkserver", "moosefs-cli", "xfsprogs"]
}

# The chunk volume: XFS (refusing a device that already holds a filesystem:
# chunks are never wiped), mounted and in /etc/fstab.
module "chunks" {
  source = "builtin/xfs-volume"
  on     = hosts.chunkserver
  after  = [step.chunkserver_packages] # mkfs.xfs comes with xfsprogs
  device = host.volume.chunks.device
  target = local.chunk_fs
  # The chunkserver holds its folder open: stop it before unmounting.
  before_unmount = "systemctl stop moosefs-chunkserver 2>/dev/null || true"
}

step "chunk_dir" {
  on    = hosts.chunkserver
  after = [module.chunks]
  # The chunkserver runs as mfs (a user the package creates) and must own its folder.
  run    = "install -d -o mfs -g mfs -m 0750 ${local.chunk_dir}"
  unless = "test \"$(stat -c %U:%G ${local.chunk_dir} 2>/dev/null)\" = mfs:mfs"
}

# mfschunkserver.cfg, mfshdd.cfg (its storage folders) and the chunkserver,
# reloaded when either changes. The files wait for the chunk folder too, so
# the chunkserver never starts on an unmounted volume.
module "chunkserver" {
  source = "./modules/daemon"
  after  = [step.chunkserver_packages, step.chunk_dir]
  hosts  = hosts.chunkserver
  name   = "chunkserver"
  config = local.chunkserver_cfg
  also   = { path = "/etc/mfs/mfshdd.cfg", content = local.hdd_cfg }
}

step "chunkservers_registered" {
  on        = hosts.master
  after     = [module.master]
  after_all = [module.chunkserver]
  # Writes with goal N need N chunkservers connected to the master.
  wait {
    command = local.all_chunkservers_connected
    timeout = "180s"
  }
}

# ---- clients ----

step "client_packages" {
  on = hosts.client
  # fuse3 brings mount.fuse, which the fstab line below uses.
  package = ["moosefs-client", "fuse3"]
}

step "mount" {
  on        = hosts.client
  after     = [step.client_packages]
  after_all = [step.chunkservers_registered]
  # A run step, not a mount block: mfsmount names its mount "mfs#HOST:PORT"
  # of type "fuse", whatever it was mounted as, so the mount kind could not
  # recognise it as its own. One fstab line remounts it at boot.
  run     = <<-EOT
    set -e
    mkdir -p ${local.mountpoint}
    sed -i '\#^[^#]*[[:space:]]${local.mountpoint}[[:space:]]#d' /etc/fstab
    echo '${local.fstab_line}' >> /etc/fstab
    src=$(findmnt -rn -o SOURCE --mountpoint ${local.mountpoint} || true)
    if [ -n "$src" ] && [ "$src" != 'mfs#${local.master_ip}:9421' ]; then
      umount ${local.mountpoint}
    fi
    mountpoint -q ${local.mountpoint} || mount ${local.mountpoint}
  EOT
  unless  = "findmnt -rn -o SOURCE --mountpoint ${local.mountpoint} | grep -qxF 'mfs#${local.master_ip}:9421' && grep -qxF '${local.fstab_line}' /etc/fstab"
  retries = 2
  destroy = <<-EOT
    if mountpoint -q ${local.mountpoint}; then umount ${local.mountpoint}; fi
    sed -i '\#^[^#]*[[:space:]]${local.mountpoint}[[:space:]]#d' /etc/fstab
  EOT
}

step "goal" {
  on    = slice(hosts.client, 0, min(1, var.clients))
  after = [step.mount]
  # The goal of the root directory is inherited by everything created under
  # it; -r also changes what exists, and the master then adds or removes
  # copies in the background.
  run    = "mfssetgoal -r ${var.goal} ${local.mountpoint}"
  unless = "mfsgetgoal ${local.mountpoint} | grep -qx '${local.mountpoint}: ${var.goal}'"
}

# After a chunkserver is replaced (diffuser apply -replace 'chunkserver[1]',
# or an apply after the machine is gone): the new one registers with the
# master by itself; its chunks are gone, and the master re-replicates
# every chunk left under its goal in the background. chunkservers_back
# waits (on the master, which has mfscli) until every chunkserver is
# connected again; rereplicated (on client[0], through its mount) until
# mfscheckfile (the master's current answer, not the chunk loop's
# statistics) shows no chunk of any file with fewer than goal copies.
# Files given another goal by hand are held to the recipe's goal here; the
# check reads every file's chunk list, so it takes longer on large trees.
# A live chunkserver given to -replace is drained on its old machine first
# (engine: drain): once the master reports no chunk missing, endangered or
# under goal (mfscli -SIC: every chunk on it has its other copies), its
# moosefs-chunkserver is stopped, so the master starts copying its chunks
# from the others before the machine goes. With goal 1 its chunks have no
# other copy: the drain refuses, the launch fails and the old machine is
# kept. On the new host the step only records the replacement.
step "chunkserver_replaced" {
  on            = hosts.chunkserver
  after         = [module.chunkserver]
  when_replaced = hosts.chunkserver
  description   = "a replaced chunkserver is recorded on the new host; a live one is drained on its old machine first"
  timeout       = "30m"
  drain         = <<-EOT
    if [ ${var.goal} -lt 2 ]; then
      echo "chunkserver[${host.index}]: goal ${var.goal}, its chunks have no other copy; stopping it would lose them. Raise goal first (goal=2, apply, wait until every chunk has 2 copies), or stop this machine and replace it as a dead one (its chunks are lost)" >&2
      exit 1
    fi
    for i in $(seq 1 900); do
      out=$(mfscli -H ${local.master_ip} -SIC -p 2>&1)
      n=$(printf '%s\n' "$out" | awk -F'\t' '/chunkclass (missing|endangered|undergoal):/ { seen++; s += $NF } END { print (seen ? s + 0 : -1) }')
      # The counts above are the master's background statistics (minutes
      # behind); the connected chunkservers are live: all of them, or a
      # loss the statistics do not show yet may leave single copies.
      c=$(${local.connected_chunkservers})
      if [ "$n" = 0 ] && [ "$c" -ge ${var.chunkservers} ]; then
        printf '%s\n' "$out" | grep 'chunkclass' || true
        systemctl stop moosefs-chunkserver || exit 1
        echo "no chunk missing or under goal ${var.goal}: moosefs-chunkserver stopped, the master copies its chunks from the others"
        exit 0
      fi
      if [ "$n" = -1 ] && [ "$i" -ge 15 ]; then
        echo "mfscli -H ${local.master_ip} -SIC -p gives no chunk counts after 30 seconds:" >&2
        printf '%s\n' "$out" >&2
        exit 1
      fi
      [ $((i % 30)) = 1 ] && echo "waiting: $n chunks missing, endangered or under goal ${var.goal}; $c of ${var.chunkservers} chunkservers connected"
      sleep 2
    done
    echo "chunkserver[${host.index}]: after 30 minutes $n chunks still missing or under goal ${var.goal}, $c of ${var.chunkservers} chunkservers connected; nothing stopped" >&2
    exit 1
  EOT
  run           = "echo \"$(date -u +%FT%TZ) chunkserver[${host.index}] replaced\" >> /var/log/diffuser-chunkserver-replace.log"
}

step "chunkservers_back" {
  on            = hosts.master
  after_all     = [module.chunkserver]
  when_replaced = hosts.chunkserver
  description   = "after a chunkserver is replaced, wait until the master lists every chunkserver connected"
  wait {
    command = local.all_chunkservers_connected
    timeout = "300s"
  }
}

step "rereplicated" {
  on            = slice(hosts.client, 0, min(1, var.clients))
  after         = [step.goal]
  after_all     = [step.chunkservers_back]
  when_replaced = hosts.chunkserver
  description   = "after a chunkserver is replaced, wait until every chunk is back at goal"
  timeout       = "60m"
  run           = <<-EOT
    for i in $(seq 1 1800); do
      under=$(find ${local.mountpoint} -type f -print0 | xargs -0 -r mfscheckfile 2>&1 |
        awk '/^[[:space:]]*chunks with [0-9]+ cop/ { if ($3 + 0 < ${var.goal}) n += $NF } /[Ee]rror|failed/ {e++} END { print (e ? -1 : n + 0) }')
      if [ "$under" = 0 ]; then
        echo "every chunk of every file under ${local.mountpoint} has ${var.goal} copies"
        exit 0
      fi
      [ $((i % 30)) = 1 ] && echo "waiting: $under chunks under goal ${var.goal}"
      sleep 2
    done
    echo "not every chunk is back at goal ${var.goal} after 60 minutes ($under chunks under goal)" >&2
    exit 1
  EOT
}

verify "roundtrip" {
  enabled = var.clients > 0 # clients = 0: nothing mounts the filesystem to check
  on      = hosts.client
  path    = local.mountpoint
  # With goal >= 2, stop chunkserver[0] and read again: the client must fetch
  # every chunk from another copy. Started again, it is waited for until the
  # master lists it. With goal 1 there is no other copy: nothing is stopped.
  failover {
    on    = hosts.chunkserver[0]
    stop  = var.goal >= 2 ? "systemctl stop moosefs-chunkserver" : "echo 'goal 1: every chunk has one copy, nothing stopped'"
    start = var.goal >= 2 ? local.start_chunkserver : "true"
  }
}

output "master" {
  value = local.master_ip
}

output "mount" {
  value = "mfsmount ${local.mountpoint} -H ${local.master_ip}"
}

output "health" {
  value = "on the master: mfscli -H ${local.master_ip} -SIN -SCS -SHD"
}
