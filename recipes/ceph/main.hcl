recipe "ceph" {
  description = "Ceph cluster (monitors with manager and MDS, one bluestore OSD per volume) serving a CephFS filesystem, mounted with ceph-fuse (or the kernel client) on every client"
  # Ceph needs these open between members and from clients; cloud providers document them on the cluster firewall.
  ports = ["22/tcp ssh", "3300/tcp mon (msgr2)", "6789/tcp mon (msgr1)", "6800-7300/tcp osd, mgr, mds"]
}

# The layout: every monitor host also runs a manager and an MDS (one of each
# active, the others standby); every OSD host runs one OSD on its volume;
# clients only mount. Keys are generated once, on the first monitor, and
# handed to the hosts that need them through sensitive step outputs:
#
#   mon. and client.admin   -> monitor hosts  (mkfs keyring, admin CLI)
#   client.bootstrap-osd    -> OSD hosts      (ceph-volume registers the OSD)
#   client.<client_id>      -> client hosts   (CephFS read-write, this filesystem only)
#
# Manager and MDS keys are created by each monitor host for itself and never
# leave it.

variable "monitors" {
  type        = number
  default     = 1
  description = "Number of monitor hosts (each also runs a manager and an MDS). 3 survives the loss of one; 5 of two."
  integer     = true
  validation {
    condition     = var.monitors >= 1 && var.monitors <= 7 && var.monitors % 2 == 1
    error_message = "monitors must be 1, 3, 5 or 7: quorum is a majority, so an even count adds a host that can fail without adding any tolerance."
  }
}

variable "osds" {
  type        = number
  default     = 3
  description = "Number of OSD hosts, one OSD (bluestore on the host's osd volume) each. Pools keep min(osds, 3) copies. Growing it adds OSDs; shrinking it is not supported (see the docs)."
  min         = 1
  integer     = true
}

variable "clients" {
  type        = number
  default     = 1
  description = "Number of client hosts that mount the filesystem."
  min         = 0
  integer     = true
}

variable "osd_size_gb" {
  type        = number
  default     = 10
  description = "Size of each OSD host's data volume (the whole device becomes the OSD); at least 4 GB, as Bluestore needs room for its DB and WAL."
  min         = 4
  integer     = true
}

variable "osd_memory_mb" {
  type        = number
  default     = 1024
  description = "osd_memory_target per OSD, in MiB; Ceph refuses less than 896. Small by default for test clusters and containers; Ceph's own default is 4096, use that or more on real hardware."
  min         = 896
  integer     = true
}

variable "fs_name" {
  type        = string
  default     = "cephfs"
  description = "Name of the CephFS filesystem; its pools are <fs_name>_metadata and <fs_name>_data."
  format      = "identifier"
}

variable "client_id" {
  type        = string
  default     = "fsclient"
  description = "Ceph user the clients mount as (client.<client_id>), allowed read-write on fs_name only."
  format      = "identifier"
  validation {
    condition     = var.client_id != "admin"
    error_message = "client_id must not be admin: clients get a user of their own, read-write on fs_name only."
  }
}

variable "mount_path" {
  type        = string
  default     = "/mnt/cephfs"
  description = "Where clients mount the filesystem: an absolute path of letters, digits, _ and . (no -, no leading . in a name), as it becomes a systemd instance name (ceph-fuse@mnt-cephfs) without escaping."
  pattern     = "(/[a-zA-Z0-9_][a-zA-Z0-9_.]*)+"
}

variable "client_mount" {
  type        = string
  default     = "fuse"
  description = "How clients mount: fuse (ceph-fuse, a systemd unit per mount) or kernel (mount -t ceph; needs the ceph kernel module on the client)."
  one_of      = ["fuse", "kernel"]
}

variable "public_network" {
  type        = string
  default     = ""
  description = "CIDR the daemons bind to (public_network); empty lets Ceph use the address monitors are reached on, which suits hosts with one network."
  format      = "cidr"
  allow_empty = true
}

locals {
  # Copies per object: one per OSD, at most 3. With 3 copies a write needs 2
  # of them (min_size 2); with 2 copies it goes on with one left, which is a
  # risk Ceph warns about but what a two-OSD cluster can offer.
  size     = min(var.osds, 3)
  min_size = local.size >= 3 ? 2 : 1

  mon_ids   = [for h in hosts.mon : h.hostname]
  mon_addrs = join(",", [for h in hosts.mon : "[v2:${h.private_ip}:3300,v1:${h.private_ip}:6789]"])

  public_network_line = (var.public_network != ""
    ? "public_network = ${var.public_network}"
  : "# public_network is not set: daemons use the address monitors are reached on")

  # A cephx key as ceph-authtool prints it (base64 of 28 bytes, 40
  # characters); captures of keys must match it whole.
  cephx_key_re = "[A-Za-z0-9+/]{38,}={0,2}"

  ceph_conf = <<-EOT
    # Written by diffuser (recipe ceph). Cluster-wide settings live in the
    # monitors' configuration database (ceph config dump), not here.
    [global]
    fsid = ${step.fsid.outputs.fsid}
    mon_initial_members = ${join(", ", local.mon_ids)}
    mon_host = ${local.mon_addrs}
    ${local.public_network_line}
    auth_cluster_required = cephx
    auth_service_required = cephx
    auth_client_required = cephx
  EOT

  admin_keyring = <<-EOT
    [client.admin]
        key = ${step.keys.outputs.admin}
        caps mds = "allow *"
        caps mgr = "allow *"
        caps mon = "allow *"
        caps osd = "allow *"
  EOT

  # For commands on hosts that keep no admin key (osd_replace): the admin
  # key in a root-only temporary keyring removed when the command ends, and
  # c, the ceph CLI using it. Put on a line of its own.
  admin_cli = join("\n", [
    "umask 077",
    "K=$(mktemp)",
    "trap 'rm -f \"$K\"' EXIT",
    "printf '[client.admin]\\n\\tkey = %s\\n' ${shellquote(step.keys.outputs.admin)} > \"$K\"",
    "c() { ceph --name client.admin --keyring \"$K\" --connect-timeout 30 \"$@\"; }",
  ])

  bootstrap_osd_keyring = <<-EOT
    [client.bootstrap-osd]
        key = ${step.keys.outputs.bootstrap_osd}
        caps mgr = "allow r"
        caps mon = "profile bootstrap-osd"
  EOT

  # Checks of the cluster's JSON (ceph pg stat -f json, ceph osd stat -f
  # json) read from stdin, each exiting 0 when it holds: every placement
  # group active+clean (the OSDs hold complete copies); every OSD up and in.
  pgs_clean = chomp(<<-EOT
    python3 -c '
    import json, sys
    s = json.load(sys.stdin)["pg_summary"]["num_pg_by_state"]
    sys.exit(0 if s and all(x["name"] == "active+clean" for x in s) else 1)'
  EOT
  )
  osds_in = chomp(<<-EOT
    python3 -c '
    import json, sys
    d = json.load(sys.stdin)
    sys.exit(0 if d["num_up_osds"] >= ${var.osds} and d["num_in_osds"] >= ${var.osds} else 1)'
  EOT
  )

  # A fuse mount is the systemd unit ceph-fuse@<path with / as ->.
  fuse_unit = "ceph-fuse@${replace(trimprefix(var.mount_path, "/"), "/", "-")}"

  fuse_clients   = var.client_mount == "fuse" ? hosts.client : []
  kernel_clients = var.client_mount == "kernel" ? hosts.client : []

  # The failover check stops one OSD when there is a second copy to read
  # from. A single OSD has none, so it stops the manager instead (client I/O
  # must not need it). Index into osd hosts followed by monitor hosts.
  # Ceph's units allow 3 starts in 30 minutes; every verify is one, so the
  # start clears the counter (reset-failed) or the third verify leaves the
  # daemon failed.
  failover_index = var.osds >= 2 ? 1 : var.osds
  failover_unit  = var.osds >= 2 ? "ceph-osd@1" : "ceph-mgr@${hosts.mon[0].hostname}"
  failover_stop  = "systemctl stop ${local.failover_unit}"
  failover_start = "systemctl reset-failed ${local.failover_unit} 2>/dev/null; systemctl start ${local.failover_unit}"
}

hosts "mon" {
  count = var.monitors
}

hosts "osd" {
  count = var.osds
  volume "osd" { size_gb = var.osd_size_gb }
  # What a replaced OSD host's data goes through (step.osd_replace, then
  # step.osd_recovered).
  replace_note = (local.size > 1 ?
    "its OSD is marked destroyed (same id, same CRUSH place) and made again on the new host's empty volume; Ceph backfills it from the other ${local.size - 1} cop${local.size > 2 ? "ies" : "y"} of every placement group and the apply waits for active+clean; the filesystem stays readable meanwhile" :
  "one OSD (no second copy): the data on the old OSD is lost; a new, empty OSD takes its id")
}

hosts "client" {
  count = var.clients
}

# ---------------------------------------------------------------- monitors

step "mon_packages" {
  on      = hosts.mon
  package = ["ceph-mon", "ceph-mgr", "ceph-mds", "ceph-common"]
}

step "fsid" {
  on = hosts.mon[0]
  # Made once and kept on the first monitor; every ceph.conf carries it.
  run     = "mkdir -p /var/lib/diffuser-ceph && cat /proc/sys/kernel/random/uuid > /var/lib/diffuser-ceph/fsid.tmp && mv /var/lib/diffuser-ceph/fsid.tmp /var/lib/diffuser-ceph/fsid"
  creates = "/var/lib/diffuser-ceph/fsid"
  # Captures are untrusted: what is captured goes into commands and
  # ceph.conf, so only a UUID passes (grep -x fails the step otherwise).
  capture { fsid = "grep -xE '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' /var/lib/diffuser-ceph/fsid" }
}

step "keys" {
  on        = hosts.mon[0]
  after     = [step.mon_packages]
  sensitive = true
  # Each key is generated once (a retry keeps those already made). They stay
  # in a root-only directory on the first monitor and in state.
  run     = <<-EOT
    set -e
    umask 077
    mkdir -p /var/lib/diffuser-ceph/keys
    for k in mon admin bootstrap_osd; do
      f=/var/lib/diffuser-ceph/keys/$k
      [ -s $f ] || { ceph-authtool --gen-print-key > $f.tmp && mv $f.tmp $f; }
    done
  EOT
  creates = "/var/lib/diffuser-ceph/keys/bootstrap_osd"
  # Only a cephx key (base64) passes: the keys are pasted into keyrings.
  capture {
    mon           = "grep -xE '${local.cephx_key_re}' /var/lib/diffuser-ceph/keys/mon"
    admin         = "grep -xE '${local.cephx_key_re}' /var/lib/diffuser-ceph/keys/admin"
    bootstrap_osd = "grep -xE '${local.cephx_key_re}' /var/lib/diffuser-ceph/keys/bootstrap_osd"
  }
}

# ceph.conf and the admin keyring: the ceph CLI on every monitor host.
module "mon_files" {
  source       = "builtin/ceph-conf"
  on           = hosts.mon
  after        = [step.mon_packages]
  conf         = local.ceph_conf
  keyring_path = "/etc/ceph/ceph.client.admin.keyring"
  keyring      = local.admin_keyring
}

step "mon_keyring" {
  on    = hosts.mon
  after = [step.mon_packages]
  # What ceph-mon --mkfs seeds the monitor's auth database with: its own key
  # and the two users the other hosts start from.
  file {
    path    = "/var/lib/ceph/bootstrap-mon/ceph.keyring"
    content = <<-EOT
      [mon.]
          key = ${step.keys.outputs.mon}
          caps mon = "allow *"
      ${local.admin_keyring}
      ${local.bootstrap_osd_keyring}
    EOT
    mode    = "0600"
    owner   = "ceph"
    group   = "ceph"
  }
}

step "mon_mkfs" {
  on    = hosts.mon
  after = [module.mon_files, step.mon_keyring]
  # At first deployment every monitor builds its initial map from ceph.conf
  # (mon_initial_members + mon_host) and they form quorum together. A monitor
  # added to a running cluster takes the current map instead.
  run     = <<-EOT
    set -e
    id=${host.hostname}
    dir=/var/lib/ceph/mon/ceph-$id
    [ -e $dir/done ] && exit 0
    rm -rf $dir
    install -d -o ceph -g ceph $dir
    monmap=
    if [ ${host.index} -gt 0 ] &&
      timeout 20 ceph --connect-timeout 15 mon getmap -o /var/lib/ceph/tmp/monmap 2>/dev/null; then
      monmap="--monmap /var/lib/ceph/tmp/monmap"
    fi
    ceph-mon --mkfs -i $id --fsid ${shellquote(step.fsid.outputs.fsid)} $monmap \
      --keyring /var/lib/ceph/bootstrap-mon/ceph.keyring --setuser ceph --setgroup ceph
    touch $dir/done
  EOT
  creates = "/var/lib/ceph/mon/ceph-${host.hostname}/done"
}

step "mon_service" {
  on    = hosts.mon
  after = [step.mon_mkfs]
  service {
    name    = "ceph-mon@${host.hostname}"
    enabled = true
  }
}

step "quorum" {
  on        = hosts.mon[0]
  after_all = [step.mon_service]
  timeout   = "10m"
  run       = <<-EOT
    for i in $(seq 1 150); do
      n=$(timeout 15 ceph --connect-timeout 10 quorum_status -f json 2>/dev/null |
        python3 -c 'import json,sys; print(len(json.load(sys.stdin)["quorum_names"]))' 2>/dev/null)
      [ "$n" = "${var.monitors}" ] && exit 0
      sleep 2
    done
    echo "monitor quorum has $${n:-no} members, want ${var.monitors}" >&2
    ceph -s >&2
    exit 1
  EOT
}

step "cluster_config" {
  on    = hosts.mon[0]
  after = [step.quorum]
  # Pool size follows the OSD count; existing pools follow too, so growing
  # from one OSD to two or three adds copies. min_size is lowered first so
  # that size is never below it.
  run = <<-EOT
    set -e
    ceph config set global mon_allow_pool_size_one ${local.size == 1}
    ceph config set global mon_warn_on_pool_no_redundancy ${local.size > 1}
    ceph config set global osd_pool_default_size ${local.size}
    ceph config set global osd_pool_default_min_size ${local.min_size}
    ceph config set mon auth_allow_insecure_global_id_reclaim false
    ceph config set osd osd_memory_target ${var.osd_memory_mb * 1048576}
    for p in $(ceph osd pool ls); do
      ceph osd pool set "$p" min_size 1
      ceph osd pool set "$p" size ${local.size} --yes-i-really-mean-it
      ceph osd pool set "$p" min_size ${local.min_size}
    done
  EOT
}

# A manager and an MDS on every monitor host, each with a key of its own.
module "mgr" {
  source = "./modules/daemon"
  on     = hosts.mon
  after  = [step.cluster_config]
  type   = "mgr"
}

module "mds" {
  source = "./modules/daemon"
  on     = hosts.mon
  after  = [step.cluster_config]
  type   = "mds"
}

# -------------------------------------------------------------------- OSDs

step "osd_packages" {
  on = hosts.osd
  # ceph-volume calls udevadm (from udev) even where udevd does not run.
  package = ["ceph-osd", "ceph-common", "udev"]
}

module "osd_files" {
  source       = "builtin/ceph-conf"
  on           = hosts.osd
  after        = [step.osd_packages]
  conf         = local.ceph_conf
  keyring_path = "/var/lib/ceph/bootstrap-osd/ceph.keyring"
  keyring      = local.bootstrap_osd_keyring
}

# Replacing an OSD host (diffuser apply -replace 'osd[1]', or an apply after
# the machine is gone): the cluster still has osd.N, down, with the dead
# machine's key, and ceph-volume refuses to make osd.N again unless it is
# "destroyed" (Ceph's documented replacement: ceph osd destroy, then
# ceph-volume prepare --osd-id N). Runs on the new host only, before
# step.osd. `osd destroy` needs the admin key, which OSD hosts do not keep:
# it is written to a root-only temporary keyring for this command and
# removed when it ends (the step is sensitive: its log shows the exit status
# only; the command logs to /var/log/diffuser-osd-replace.log).
step "osd_replace" {
  on            = hosts.osd
  after         = [module.osd_files]
  when_replaced = hosts.osd
  description   = "a replaced OSD host's old OSD id is marked destroyed, so step.osd can make it again"
  timeout       = "30m"
  # A live OSD host given to -replace is drained on its old machine first
  # (engine: drain): once every placement group is active+clean (the other
  # OSDs hold complete copies) and `ceph osd ok-to-stop` agrees (stopping
  # it leaves every placement group at min_size), its OSD is stopped and
  # marked down, so clients turn to the other copies before the machine
  # goes. With one OSD (no other copy) ok-to-stop never agrees: the drain
  # fails and the old machine is kept.
  drain = <<-EOT
    set -e
    ${local.admin_cli}
    for i in $(seq 1 900); do
      if c pg stat -f json | ${local.pgs_clean} && c osd ok-to-stop ${host.index} >/dev/null 2>&1; then
        systemctl stop ceph-osd@${host.index}
        c osd down ${host.index}
        exit 0
      fi
      sleep 2
    done
    echo "osd.${host.index}: placement groups not active+clean, or ceph osd ok-to-stop ${host.index} refuses, after 30 minutes" >&2
    exit 1
  EOT
  run   = <<-EOT
    set -e
    exec >>/var/log/diffuser-osd-replace.log 2>&1
    echo "$(date -u +%FT%TZ) replacing osd.${host.index}"
    dev=${host.volume.osd.device}
    # A retry after step.osd made the new OSD: nothing left to do.
    if ceph-volume raw list "$dev" 2>/dev/null | grep -q '"osd_id"'; then
      echo "$dev is already an OSD"; exit 0
    fi
    ${local.admin_cli}
    state() {
      c osd dump -f json | python3 -c '
    import json, sys
    o = [x for x in json.load(sys.stdin)["osds"] if x["osd"] == ${host.index}]
    print("none" if not o else "destroyed" if "destroyed" in o[0]["state"] else "up" if o[0]["up"] else "down")'
    }
    # The monitors mark a dead OSD down after its peers' heartbeat grace;
    # `osd down` says so at once. One that comes back up is alive: its old
    # machine still runs it, and destroying it would be wrong.
    for i in $(seq 1 60); do
      s=$(state)
      case $s in
        none) echo "osd.${host.index} is not in the cluster: step.osd makes it"; exit 0 ;;
        destroyed) echo "osd.${host.index} is destroyed already"; exit 0 ;;
        down) break ;;
        up) c osd down ${host.index} || true ;;
      esac
      sleep 2
    done
    if [ "$s" != down ]; then
      echo "osd.${host.index} stays up: its old machine still runs it; stop it there and apply again" >&2
      exit 1
    fi
    c osd out ${host.index}
    c osd destroy ${host.index} --yes-i-really-mean-it
    echo "osd.${host.index} destroyed; its placement groups are backfilled from the other copies once the new OSD is up"
  EOT
}

step "osd" {
  on        = hosts.osd
  after     = [module.osd_files, step.osd_replace]
  after_all = [step.cluster_config]
  timeout   = "10m"
  # ceph-volume "raw" mode: bluestore straight on the device, no LVM (LVM
  # does not work in containers). osd[N] gets OSD id N, so its unit is known
  # before it exists. The device must be blank or already this OSD: anything
  # else is refused, never overwritten. The OSD directory is kept on disk
  # (--no-tmpfs), so a reboot needs no re-activation.
  run    = <<-EOT
    set -e
    dev=${host.volume.osd.device}
    listed() { ceph-volume raw list "$dev" 2>/dev/null; }
    if listed | grep -qF ${shellquote("\"ceph_fsid\": \"${step.fsid.outputs.fsid}\"")}; then
      echo "$dev is already an OSD of this cluster"
    elif listed | grep -q '"osd_id"'; then
      echo "$dev holds an OSD of another Ceph cluster; refusing to overwrite it" >&2
      exit 1
    elif blkid -p "$dev" >/dev/null 2>&1; then
      echo "$dev holds data ($(blkid -p -o export "$dev" | tr '\n' ' ')); refusing to overwrite it" >&2
      exit 1
    else
      ceph-volume raw prepare --bluestore --data "$dev" --osd-id ${host.index} --no-tmpfs
    fi
    id=$(listed | python3 -c 'import json,sys; print(list(json.load(sys.stdin).values())[0]["osd_id"])')
    if [ "$id" != "${host.index}" ]; then
      echo "$dev is osd.$id, expected osd.${host.index}: this recipe maps osd[N] to osd.N" >&2
      exit 1
    fi
    [ -e /var/lib/ceph/osd/ceph-$id/ready ] && [ -L /var/lib/ceph/osd/ceph-$id/block ] ||
      ceph-volume raw activate --device "$dev" --no-tmpfs --no-systemd
  EOT
  unless = "[ -L /var/lib/ceph/osd/ceph-${host.index}/block ] && [ -e /var/lib/ceph/osd/ceph-${host.index}/ready ]"
}

# Nothing hands a raw-mode OSD's device to the ceph user at boot (udev
# rules cover the old partition layout, ceph-volume@ units cover LVM):
# after a reboot ceph-osd gets "Permission denied" on its block device.
# ExecStartPre runs as root and chowns the host's osd volume (what
# step.osd made the OSD on), by its name in /dev: not through the block
# link in /var/lib/ceph/osd/ceph-N, which belongs to ceph, so that any
# process of a Ceph daemon could point it at /etc/shadow and have root
# give that to ceph at the next OSD start.
module "osd_dropin" {
  source  = "./modules/dropin"
  on      = hosts.osd
  after   = [step.osd_packages]
  unit    = "ceph-osd@"
  content = <<-EOT
    # Written by diffuser (recipe ceph).
    [Service]
    ExecStartPre=/bin/chown ceph:ceph ${host.volume.osd.device}
  EOT
  then    = "systemctl reset-failed 'ceph-osd@*' 2>/dev/null || true"
}

step "osd_service" {
  on    = hosts.osd
  after = [step.osd, module.osd_dropin]
  service {
    name    = "ceph-osd@${host.index}"
    enabled = true
  }
}

step "osds_up" {
  on        = hosts.mon[0]
  after_all = [step.osd_service]
  timeout   = "10m"
  run       = <<-EOT
    for i in $(seq 1 150); do
      ceph osd stat -f json | ${local.osds_in} && exit 0
      sleep 2
    done
    ceph osd stat >&2
    exit 1
  EOT
}

# After a replacement: every placement group active+clean again (the new
# OSD backfilled from the other copies), with every OSD up and in.
step "osd_recovered" {
  on            = hosts.mon[0]
  after         = [step.osds_up]
  after_all     = [step.osd_service]
  when_replaced = hosts.osd
  description   = "after an OSD host is replaced, wait until every placement group is active+clean"
  timeout       = "30m"
  run           = <<-EOT
    for i in $(seq 1 900); do
      ceph osd in ${join(" ", [for h in hosts.osd : h.index])} >/dev/null 2>&1 || true
      if ceph pg stat -f json | ${local.pgs_clean} 2>/dev/null &&
        ceph osd stat -f json | ${local.osds_in}; then
        ceph pg stat
        ceph health
        exit 0
      fi
      sleep 2
    done
    echo "placement groups not all active+clean after 30 minutes:" >&2
    ceph -s >&2
    exit 1
  EOT
}

# -------------------------------------------------------------- filesystem

step "filesystem" {
  on        = hosts.mon[0]
  after     = [step.osds_up]
  after_all = [module.mds, module.mgr]
  timeout   = "10m"
  run       = <<-EOT
    set -e
    meta=${var.fs_name}_metadata
    data=${var.fs_name}_data
    # Another filesystem with this recipe's pools (NAME_metadata) is this
    # recipe's under an earlier fs_name. Ceph 16 would make a second one
    # next to it, not rename it, and the clients would mount an empty
    # filesystem while the data stays in the first: refused before any
    # pool is made.
    other=$(ceph fs ls -f json | python3 -c '
    import json, sys
    print(" ".join(f["name"] for f in json.load(sys.stdin)
                   if f["name"] != sys.argv[1] and f["metadata_pool"] == f["name"] + "_metadata"))' ${var.fs_name})
    if [ -n "$other" ]; then
      echo "filesystem $other, made by this recipe (its pools are $${other}_metadata and $${other}_data), holds the data; fs_name is ${var.fs_name} now." >&2
      echo "A second filesystem would leave the clients on an empty one: set fs_name back to $other; or copy the data off, remove $other yourself (ceph fs fail $other; ceph fs rm $other --yes-i-really-mean-it) and apply again." >&2
      exit 1
    fi
    ceph osd pool ls | grep -qx $meta || ceph osd pool create $meta 16
    ceph osd pool ls | grep -qx $data || ceph osd pool create $data 32
    ceph fs get ${var.fs_name} >/dev/null 2>&1 || ceph fs new ${var.fs_name} $meta $data
    # Ready when an MDS is active and every placement group is active.
    for i in $(seq 1 150); do
      if ceph mds stat | grep -q "^${var.fs_name}:.*up:active" &&
        ceph pg stat -f json | python3 -c '
    import json, sys
    d = json.load(sys.stdin)
    sys.exit(0 if all("active" in s["name"] for s in d["pg_summary"]["num_pg_by_state"]) else 1)' 2>/dev/null; then
        exit 0
      fi
      sleep 2
    done
    ceph -s >&2
    exit 1
  EOT
}

step "client_key" {
  on        = hosts.mon[0]
  after     = [step.filesystem]
  sensitive = true
  run       = "ceph auth get client.${var.client_id} >/dev/null 2>&1 || ceph fs authorize ${var.fs_name} client.${var.client_id} / rw >/dev/null"
  unless    = "ceph auth get client.${var.client_id} >/dev/null 2>&1"
  capture { key = "ceph auth print-key client.${var.client_id} | grep -xE '${local.cephx_key_re}'" }
}

# ----------------------------------------------------------------- clients

step "client_packages" {
  on      = hosts.client
  package = var.client_mount == "fuse" ? ["ceph-fuse"] : ["ceph-common"]
}

module "client_files" {
  source       = "builtin/ceph-conf"
  on           = hosts.client
  after        = [step.client_packages]
  conf         = local.ceph_conf
  keyring_path = "/etc/ceph/ceph.client.${var.client_id}.keyring"
  keyring      = <<-EOT
    [client.${var.client_id}]
        key = ${step.client_key.outputs.key}
  EOT
}

# Debian's ceph-fuse@.service sandboxes the daemon (ProtectKernelTunables
# and friends), which gives it a private mount namespace wherever systemd
# can build one: the FUSE mount is then made there and nobody else sees it.
# These are turned off so the mount lands in the host's namespace.
module "fuse_dropin" {
  source  = "./modules/dropin"
  on      = local.fuse_clients
  after   = [step.client_packages]
  unit    = "ceph-fuse@"
  content = <<-EOT
    # Written by diffuser (recipe ceph).
    [Service]
    Environment="CEPH_ARGS=--id ${var.client_id} --client_fs ${var.fs_name}"
    ExecStartPre=/bin/mkdir -p %I
    ProtectControlGroups=no
    ProtectHostname=no
    ProtectKernelLogs=no
    ProtectKernelModules=no
    ProtectKernelTunables=no
  EOT
}

step "fuse_mount" {
  on    = local.fuse_clients
  after = [module.fuse_dropin, module.client_files]
  service {
    name    = local.fuse_unit
    enabled = true
  }
  destroy = "systemctl disable --now ${local.fuse_unit}"
}

step "fuse_mounted" {
  on    = local.fuse_clients
  after = [step.fuse_mount]
  wait {
    command = "findmnt -n -t fuse.ceph-fuse --mountpoint ${var.mount_path}"
    timeout = "120s"
  }
}

step "kernel_secret" {
  on    = local.kernel_clients
  after = [step.client_packages]
  file {
    path    = "/etc/ceph/${var.client_id}.secret"
    content = step.client_key.outputs.key
    mode    = "0600"
  }
}

step "kernel_mount" {
  on    = local.kernel_clients
  after = [step.kernel_secret, module.client_files]
  # Not a mount step: the kernel shows the source in its own spelling
  # (monitor addresses it resolved), so the check is "a ceph mount is there".
  run     = <<-EOT
    set -e
    # Switching from fuse: the ceph-fuse unit goes first (its step's destroy
    # only runs after this one).
    systemctl disable --now ${local.fuse_unit} 2>/dev/null || true
    if findmnt -n --mountpoint ${var.mount_path}; then
      echo "${var.mount_path} has another filesystem mounted; unmount it first" >&2
      exit 1
    fi
    mkdir -p ${var.mount_path}
    mount -t ceph ${join(",", [for h in hosts.mon : "${h.private_ip}:6789"])}:/ ${var.mount_path} \
      -o name=${var.client_id},secretfile=/etc/ceph/${var.client_id}.secret,mds_namespace=${var.fs_name}
  EOT
  unless  = "findmnt -n -t ceph --mountpoint ${var.mount_path}"
  destroy = "! findmnt -n -t ceph --mountpoint ${var.mount_path} || umount ${var.mount_path}"
}

verify "roundtrip" {
  enabled = var.clients > 0 # clients = 0: nothing mounts the filesystem to check
  on      = hosts.client
  path    = var.mount_path
  failover {
    on    = [for i, h in concat(hosts.osd, hosts.mon) : h if i == local.failover_index]
    stop  = local.failover_stop
    start = local.failover_start
  }
}

output "mount" {
  value = "${var.client_mount == "fuse" ? local.fuse_unit : "mount -t ceph"} on ${var.mount_path} of every client (client.${var.client_id}, filesystem ${var.fs_name})"
}

output "monitors" {
  value = local.mon_addrs
}

# ------------------------------------------------------- object storage (S3)
#
# RADOS gateways (builtin/radosgw): `s3_gateways` hosts (group `rgw`) of their own, each a
# radosgw with the beast frontend on s3_port, and one S3 user whose
# keys are the sensitive outputs s3_access_key and s3_secret_key. 0 (the
# default) adds nothing.

variable "s3_gateways" {
  type        = number
  default     = 0
  description = "Number of RADOS gateway hosts (radosgw, S3 API on s3_port). 0 deploys none."
  min         = 0
  integer     = true
}

variable "s3_port" {
  type        = number
  default     = 7480
  description = "TCP port of each gateway's S3 endpoint (HTTP, beast frontend)."
  min         = 1
  max         = 65535
  integer     = true
}

variable "s3_user" {
  type        = string
  default     = "diffuser"
  description = "uid of the S3 user created on the gateways."
}

hosts "rgw" {
  count = var.s3_gateways
}

module "rgw" {
  source    = "builtin/radosgw"
  gateways  = hosts.rgw
  admin     = var.s3_gateways > 0 ? [hosts.mon[0]] : []
  after     = [step.osds_up]
  ceph_conf = local.ceph_conf
  port      = var.s3_port
  user      = var.s3_user
}

verify "objects" {
  s3 {
    endpoints  = module.rgw.endpoints
    access_key = module.rgw.access_key
    secret_key = module.rgw.secret_key
  }
}

output "s3_endpoints" {
  value       = module.rgw.endpoints
  description = "S3 endpoint URL of each gateway (path-style, any region name)."
}

output "s3_access_key" {
  value     = module.rgw.access_key
  sensitive = true
}

output "s3_secret_key" {
  value     = module.rgw.secret_key
  sensitive = true
}

# ---------------------------------------------------------------- gateways
# NFS and SMB gateways (off by default): builtin/gateways puts NFS-Ganesha
# (FSAL_CEPH) and Samba (vfs_ceph) with CTDB on `gateway` hosts, reaching
# CephFS through libcephfs as client.<client_id>; gateway clients mount
# through them with GVfs (no kernel NFS or CIFS client), and the module's
# verify blocks check them, failover included. See docs/gateways.md.

variable "nfs_gateways" {
  type        = number
  default     = 0
  description = "Number of gateway hosts serving the filesystem over NFS (NFS-Ganesha, FSAL_CEPH). 2 or more: verify writes through one, reads through another, and reads again with the first stopped."
  min         = 0
  integer     = true
}

variable "smb_gateways" {
  type        = number
  default     = 0
  description = "Number of gateway hosts serving the filesystem over SMB (Samba, vfs_ceph), clustered with CTDB. They are the first hosts of the same gateway group as the NFS gateways."
  min         = 0
  integer     = true
}

variable "gateway_clients" {
  type        = number
  default     = 2
  description = "Client hosts that mount through the gateways (when there are any): client i goes through gateway i mod N, NFS at /mnt/nfs-gateway, SMB at /mnt/smb-gateway."
  min         = 0
  integer     = true
}

variable "gateway_public_addresses" {
  type        = list(string)
  default     = []
  description = "CTDB floating addresses for the SMB gateways, \"ADDRESS/PREFIX INTERFACE\" each. Needs CAP_NET_ADMIN on the gateways (not on the docker provider)."
}

hosts "gateway" {
  count = max(var.nfs_gateways, var.smb_gateways)
}

hosts "gateway_client" {
  count = max(var.nfs_gateways, var.smb_gateways) > 0 ? var.gateway_clients : 0
}

module "gateways" {
  source           = "builtin/gateways"
  after            = [step.filesystem]
  gateways         = hosts.gateway
  clients          = hosts.gateway_client
  nfs              = var.nfs_gateways
  smb              = var.smb_gateways
  backend          = "ceph"
  volume           = var.fs_name
  ceph_conf        = local.ceph_conf
  ceph_user        = var.client_id
  ceph_keyring     = "[client.${var.client_id}]\n    key = ${step.client_key.outputs.key}\n"
  public_addresses = var.gateway_public_addresses
}

output "nfs_gateways" {
  description = "What NFS clients mount, one per NFS gateway (NFSv3 and NFSv4)."
  value       = module.gateways.nfs
}

output "smb_gateways" {
  description = "The SMB share, one address per SMB gateway."
  value       = module.gateways.smb
}
