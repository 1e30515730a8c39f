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
  validation {
    condition     = var.monitors >= 1 && var.monitors <= 7 && var.monitors % 2 == 1
    error_message = "monitors must be 1, 3, 5 or 7: quorum is a majority, so an even count adds a host that can fail without adding any tolerance."
  }
}

variable "osds" {
  type        = number
  default     = 3
  description = "Number of OSD hosts, one OSD (bluestore on the host's osd volume) each. Pools keep min(osds, 3) copies. Growing it adds OSDs; shrinking it is not supported (see the docs)."
  validation {
    condition     = var.osds >= 1
    error_message = "At least one OSD is needed."
  }
}

variable "clients" {
  type        = number
  default     = 1
  description = "Number of client hosts that mount the filesystem."
}

variable "osd_size_gb" {
  type        = number
  default     = 10
  description = "Size of each OSD host's data volume (the whole device becomes the OSD)."
  validation {
    condition     = var.osd_size_gb >= 4
    error_message = "Bluestore needs room for its DB and WAL: give each OSD at least 4 GB."
  }
}

variable "osd_memory_mb" {
  type        = number
  default     = 1024
  description = "osd_memory_target per OSD, in MiB. Small by default for test clusters and containers; Ceph's own default is 4096, use that or more on real hardware."
  validation {
    condition     = var.osd_memory_mb >= 896
    error_message = "Ceph refuses an osd_memory_target below 896 MiB."
  }
}

variable "fs_name" {
  type        = string
  default     = "cephfs"
  description = "Name of the CephFS filesystem; its pools are <fs_name>_metadata and <fs_name>_data."
  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_]*$", var.fs_name))
    error_message = "fs_name must be a letter followed by letters, digits and _."
  }
}

variable "client_id" {
  type        = string
  default     = "fsclient"
  description = "Ceph user the clients mount as (client.<client_id>), allowed read-write on fs_name only."
  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_]*$", var.client_id)) && var.client_id != "admin"
    error_message = "client_id must be a letter followed by letters, digits and _, and not admin."
  }
}

variable "mount_path" {
  type        = string
  default     = "/mnt/cephfs"
  description = "Where clients mount the filesystem."
  validation {
    # No '-' and no leading '.': the path becomes a systemd instance name (ceph-fuse@mnt-cephfs) without escaping.
    condition     = can(regex("^(/[a-zA-Z0-9_][a-zA-Z0-9_.]*)+$", var.mount_path))
    error_message = "mount_path must be an absolute path of letters, digits, _ and . (no -, no trailing /)."
  }
}

variable "client_mount" {
  type        = string
  default     = "fuse"
  description = "How clients mount: fuse (ceph-fuse, a systemd unit per mount) or kernel (mount -t ceph; needs the ceph kernel module on the client)."
  validation {
    condition     = contains(["fuse", "kernel"], var.client_mount)
    error_message = "client_mount must be fuse or kernel."
  }
}

variable "public_network" {
  type        = string
  default     = ""
  description = "CIDR the daemons bind to (public_network); empty lets Ceph use the address monitors are reached on, which suits hosts with one network."
  validation {
    condition     = var.public_network == "" || can(cidrhost(var.public_network, 0))
    error_message = "public_network must be empty or a CIDR such as 10.0.0.0/16."
  }
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

  bootstrap_osd_keyring = <<-EOT
    [client.bootstrap-osd]
        key = ${step.keys.outputs.bootstrap_osd}
        caps mgr = "allow r"
        caps mon = "profile bootstrap-osd"
  EOT

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
  capture { fsid = "cat /var/lib/diffuser-ceph/fsid" }
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
  capture {
    mon           = "cat /var/lib/diffuser-ceph/keys/mon"
    admin         = "cat /var/lib/diffuser-ceph/keys/admin"
    bootstrap_osd = "cat /var/lib/diffuser-ceph/keys/bootstrap_osd"
  }
}

step "mon_conf" {
  on    = hosts.mon
  after = [step.mon_packages]
  file {
    path    = "/etc/ceph/ceph.conf"
    content = local.ceph_conf
  }
}

step "admin_keyring" {
  on    = hosts.mon
  after = [step.mon_packages]
  file {
    path    = "/etc/ceph/ceph.client.admin.keyring"
    content = local.admin_keyring
    mode    = "0600"
  }
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
  after = [step.mon_conf, step.mon_keyring, step.admin_keyring]
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
    ceph-mon --mkfs -i $id --fsid ${step.fsid.outputs.fsid} $monmap \
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
    state   = "started"
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

step "mgr_keyring" {
  on      = hosts.mon
  after   = [step.cluster_config]
  run     = <<-EOT
    set -e
    d=/var/lib/ceph/mgr/ceph-${host.hostname}
    install -d -o ceph -g ceph $d
    ceph auth get-or-create mgr.${host.hostname} mon 'allow profile mgr' osd 'allow *' mds 'allow *' -o $d/keyring.tmp
    chown ceph:ceph $d/keyring.tmp
    mv $d/keyring.tmp $d/keyring
  EOT
  creates = "/var/lib/ceph/mgr/ceph-${host.hostname}/keyring"
}

step "mgr_service" {
  on    = hosts.mon
  after = [step.mgr_keyring]
  service {
    name    = "ceph-mgr@${host.hostname}"
    state   = "started"
    enabled = true
  }
}

step "mds_keyring" {
  on      = hosts.mon
  after   = [step.cluster_config]
  run     = <<-EOT
    set -e
    d=/var/lib/ceph/mds/ceph-${host.hostname}
    install -d -o ceph -g ceph $d
    ceph auth get-or-create mds.${host.hostname} mon 'profile mds' mgr 'profile mds' mds 'allow *' osd 'allow *' -o $d/keyring.tmp
    chown ceph:ceph $d/keyring.tmp
    mv $d/keyring.tmp $d/keyring
  EOT
  creates = "/var/lib/ceph/mds/ceph-${host.hostname}/keyring"
}

step "mds_service" {
  on    = hosts.mon
  after = [step.mds_keyring]
  service {
    name    = "ceph-mds@${host.hostname}"
    state   = "started"
    enabled = true
  }
}

# -------------------------------------------------------------------- OSDs

step "osd_packages" {
  on = hosts.osd
  # ceph-volume calls udevadm (from udev) even where udevd does not run.
  package = ["ceph-osd", "ceph-common", "udev"]
}

step "osd_conf" {
  on    = hosts.osd
  after = [step.osd_packages]
  file {
    path    = "/etc/ceph/ceph.conf"
    content = local.ceph_conf
  }
}

step "bootstrap_osd_keyring" {
  on    = hosts.osd
  after = [step.osd_packages]
  file {
    path    = "/var/lib/ceph/bootstrap-osd/ceph.keyring"
    content = local.bootstrap_osd_keyring
    mode    = "0600"
  }
}

step "osd" {
  on        = hosts.osd
  after     = [step.osd_conf, step.bootstrap_osd_keyring]
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
    if listed | grep -q '"ceph_fsid": "${step.fsid.outputs.fsid}"'; then
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

step "osd_unit" {
  on    = hosts.osd
  after = [step.osd_packages]
  # Nothing hands a raw-mode OSD's device to the ceph user at boot (udev
  # rules cover the old partition layout, ceph-volume@ units cover LVM):
  # after a reboot ceph-osd gets "Permission denied" on its block device.
  # ExecStartPre runs as root; chown follows the block symlink.
  # A run step, not a file step: systemd does not flag a new drop-in of an
  # already loaded unit as needing daemon-reload, so the reload is explicit.
  run = <<-EOT
    set -e
    mkdir -p /etc/systemd/system/ceph-osd@.service.d
    cat > /etc/systemd/system/ceph-osd@.service.d/diffuser.conf <<'UNIT'
    # Written by diffuser (recipe ceph).
    [Service]
    ExecStartPre=/bin/chown ceph:ceph /var/lib/ceph/osd/ceph-%i/block
    UNIT
    systemctl daemon-reload
    systemctl reset-failed 'ceph-osd@*' 2>/dev/null || true
  EOT
}

step "osd_service" {
  on    = hosts.osd
  after = [step.osd, step.osd_unit]
  service {
    name    = "ceph-osd@${host.index}"
    state   = "started"
    enabled = true
  }
}

step "osds_up" {
  on        = hosts.mon[0]
  after_all = [step.osd_service]
  timeout   = "10m"
  run       = <<-EOT
    for i in $(seq 1 150); do
      ceph osd stat -f json | python3 -c '
    import json, sys
    d = json.load(sys.stdin)
    sys.exit(0 if d["num_up_osds"] >= ${var.osds} and d["num_in_osds"] >= ${var.osds} else 1)' && exit 0
      sleep 2
    done
    ceph osd stat >&2
    exit 1
  EOT
}

# -------------------------------------------------------------- filesystem

step "filesystem" {
  on        = hosts.mon[0]
  after     = [step.osds_up]
  after_all = [step.mds_service, step.mgr_service]
  timeout   = "10m"
  run       = <<-EOT
    set -e
    meta=${var.fs_name}_metadata
    data=${var.fs_name}_data
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
  capture { key = "ceph auth print-key client.${var.client_id}" }
}

# ----------------------------------------------------------------- clients

step "client_packages" {
  on      = hosts.client
  package = var.client_mount == "fuse" ? ["ceph-fuse"] : ["ceph-common"]
}

step "client_conf" {
  on    = hosts.client
  after = [step.client_packages]
  file {
    path    = "/etc/ceph/ceph.conf"
    content = local.ceph_conf
  }
}

step "client_keyring" {
  on    = hosts.client
  after = [step.client_packages]
  file {
    path    = "/etc/ceph/ceph.client.${var.client_id}.keyring"
    content = <<-EOT
      [client.${var.client_id}]
          key = ${step.client_key.outputs.key}
    EOT
    mode    = "0600"
  }
}

step "fuse_unit" {
  on    = local.fuse_clients
  after = [step.client_packages]
  # Debian's ceph-fuse@.service sandboxes the daemon (ProtectKernelTunables
  # and friends), which gives it a private mount namespace wherever systemd
  # can build one: the FUSE mount is then made there and nobody else sees it.
  # These are turned off so the mount lands in the host's namespace. A run
  # step for the same reason as osd_unit: the reload must be explicit.
  run = <<-EOT
    set -e
    mkdir -p /etc/systemd/system/ceph-fuse@.service.d
    cat > /etc/systemd/system/ceph-fuse@.service.d/diffuser.conf <<'UNIT'
    # Written by diffuser (recipe ceph).
    [Service]
    Environment="CEPH_ARGS=--id ${var.client_id} --client_fs ${var.fs_name}"
    ExecStartPre=/bin/mkdir -p %I
    ProtectControlGroups=no
    ProtectHostname=no
    ProtectKernelLogs=no
    ProtectKernelModules=no
    ProtectKernelTunables=no
    UNIT
    systemctl daemon-reload
  EOT
}

step "fuse_mount" {
  on    = local.fuse_clients
  after = [step.fuse_unit, step.client_conf, step.client_keyring]
  service {
    name    = local.fuse_unit
    state   = "started"
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
  after = [step.kernel_secret, step.client_conf]
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
  on   = hosts.client
  path = var.mount_path
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
