module_info {
  description = "Samba gateways sharing a GlusterFS volume (vfs_glusterfs) or a CephFS filesystem (vfs_ceph), clustered with CTDB: one share, its locks and sessions' state kept across every gateway"
}

variable "gateways" {
  type        = any
  description = "the gateway hosts, e.g. hosts.gateway: every one serves the share and is a CTDB node"
}

variable "backend" {
  type        = string
  description = "\"gluster\" (vfs_glusterfs, libgfapi) or \"ceph\" (vfs_ceph, libcephfs)"
  validation {
    condition     = contains(["gluster", "ceph"], var.backend)
    error_message = "backend must be \"gluster\" or \"ceph\"."
  }
}

variable "volume" {
  type        = string
  description = "the GlusterFS volume or the CephFS filesystem to share"
  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_-]*$", var.volume))
    error_message = "volume must be letters, digits, - and _."
  }
}

variable "share" {
  type        = string
  default     = "share"
  description = "the share's name, as clients see it (smb://GATEWAY/NAME)"
  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_-]{0,79}$", var.share))
    error_message = "share is letters, digits, - and _ (at most 80)."
  }
}

variable "servers" {
  type        = list(string)
  default     = []
  description = "gluster: the volume's servers, tried in turn for the volume layout"
  validation {
    condition     = length([for s in var.servers : s if !can(regex("^[a-zA-Z0-9.:-]+$", s))]) == 0
    error_message = "servers are addresses or host names."
  }
}

variable "ceph_conf" {
  type        = string
  default     = ""
  description = "ceph: the content of /etc/ceph/ceph.conf"
}

variable "ceph_user" {
  type        = string
  default     = "admin"
  description = "ceph: the cephx user (without \"client.\") smbd connects as"
  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]+$", var.ceph_user))
    error_message = "ceph_user is a cephx id such as \"admin\"."
  }
}

variable "ceph_keyring" {
  type        = string
  default     = ""
  sensitive   = true
  description = "ceph: the keyring of ceph_user"
}

variable "clients" {
  type        = list(string)
  description = "who may connect (Samba's hosts allow): addresses or CIDR ranges; empty: nobody but the gateways themselves"
  validation {
    condition     = length([for c in var.clients : c if !can(regex("^[a-zA-Z0-9.:/_-]+$", c))]) == 0
    error_message = "clients are addresses, host names or CIDR ranges."
  }
}

variable "public_addresses" {
  type        = list(string)
  default     = []
  description = "CTDB's floating addresses, \"ADDRESS/PREFIX INTERFACE\" each (e.g. \"10.0.0.100/24 eth0\"): CTDB holds each on one healthy gateway and moves it on failure. Needs CAP_NET_ADMIN on the gateways (containers lack it by default): empty (the default) clusters Samba's state without floating addresses"
  validation {
    condition     = length([for a in var.public_addresses : a if !can(regex("^[0-9a-fA-F.:]+/[0-9]+ [a-zA-Z0-9_.-]+$", a))]) == 0
    error_message = "public_addresses entries are \"ADDRESS/PREFIX INTERFACE\", e.g. \"10.0.0.100/24 eth0\"."
  }
}

locals {
  ceph_gateways = var.backend == "ceph" ? var.gateways : []
  nodes         = "${join("\n", [for h in var.gateways : h.private_ip])}\n"

  vfs_gluster = <<-EOT
    vfs objects = glusterfs
    glusterfs:volume = ${var.volume}
    glusterfs:volfile_server = ${join(" ", var.servers)}
    glusterfs:logfile = /var/log/samba/glusterfs-${var.volume}.log
  EOT
  vfs_ceph    = <<-EOT
    vfs objects = ceph
    ceph:config_file = /etc/ceph/ceph.conf
    ceph:user_id = ${var.ceph_user}
  EOT

  smb_conf = <<-EOT
    # Written by diffuser (module samba-ctdb); overwritten on every apply.
    [global]
    # Every gateway is one clustered server: the same name, state in CTDB.
    clustering = yes
    netbios name = DIFFUSER-${upper(substr(var.share, 0, 6))}
    workgroup = WORKGROUP
    server role = standalone server
    server min protocol = SMB2_10
    # Guests are root on the share: diffuser verify writes as root, and the
    # cluster a recipe builds is one trust domain. Only the clients may connect.
    map to guest = Bad User
    hosts allow = 127.0.0.1 ${join(" ", concat([for h in var.gateways : h.private_ip], var.clients))}
    hosts deny = ALL
    load printers = no
    printing = bsd
    printcap name = /dev/null
    disable spoolss = yes
    log file = /var/log/samba/log.%m
    # The files live in the cluster filesystem, reached through libgfapi or
    # libcephfs: no kernel locks or leases on them.
    kernel share modes = no
    kernel oplocks = no
    posix locking = no

    [${var.share}]
    path = /
    ${var.backend == "gluster" ? local.vfs_gluster : local.vfs_ceph}
    read only = no
    guest ok = yes
    guest only = yes
    force user = root
  EOT

  ctdb_conf = <<-EOT
    # Written by diffuser (module samba-ctdb); overwritten on every apply.
    [logging]
    location = file:/var/log/ctdb/log.ctdb
    log level = NOTICE
    [legacy]
    # ctdbd asks for SCHED_FIFO and exits when refused, as it is in
    # containers (no CAP_SYS_NICE): a busy host may then delay its
    # heartbeats, which is the price of running at all.
    realtime scheduling = false
    [cluster]
    # No recovery lock: with two gateways split brain is possible when
    # they lose sight of each other (see docs/gateways.md).
  EOT
}

step "packages" {
  on = var.gateways
  # vfs_glusterfs's libgfapi needs the client translators of glusterfs-common.
  package = concat(["samba", "samba-vfs-modules", "ctdb", "tdb-tools"], var.backend == "ceph" ? ["ceph-common"] : ["glusterfs-common"])
}

step "netadmin_preflight" {
  on = length(var.public_addresses) > 0 ? var.gateways : []
  # CTDB adds and removes public addresses with ip(8): without CAP_NET_ADMIN
  # it fails at takeover, minutes into a run. Fail fast instead.
  run = <<-EOT
    bnd=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)
    if [ $(( 0x$bnd & 0x1000 )) -eq 0 ]; then
      echo "CTDB public_addresses need CAP_NET_ADMIN, and this host's capability bounding set ($bnd) lacks it. In a container, add it (docker run --cap-add NET_ADMIN); or leave public_addresses empty." >&2
      exit 1
    fi
  EOT
}

step "ceph_conf" {
  on    = local.ceph_gateways
  after = [step.packages]
  file {
    path    = "/etc/ceph/ceph.conf"
    content = var.ceph_conf
  }
}

step "ceph_keyring" {
  on    = local.ceph_gateways
  after = [step.packages]
  file {
    path    = "/etc/ceph/ceph.client.${var.ceph_user}.keyring"
    content = var.ceph_keyring
    mode    = "0600"
  }
}

step "ctdb_nodes" {
  on    = var.gateways
  after = [step.packages]
  file {
    path    = "/etc/ctdb/nodes"
    content = local.nodes
  }
}

step "ctdb_public" {
  on    = var.gateways
  after = [step.packages, step.netadmin_preflight]
  file {
    path    = "/etc/ctdb/public_addresses"
    content = length(var.public_addresses) == 0 ? "" : "${join("\n", var.public_addresses)}\n"
  }
}

step "ctdb_conf" {
  on    = var.gateways
  after = [step.packages]
  file {
    path    = "/etc/ctdb/ctdb.conf"
    content = local.ctdb_conf
  }
}

step "smb_conf" {
  on    = var.gateways
  after = [step.packages]
  file {
    path    = "/etc/samba/smb.conf"
    content = local.smb_conf
  }
}

step "ctdb" {
  on    = var.gateways
  after = [step.ctdb_nodes, step.ctdb_public, step.ctdb_conf]
  # Restarts CTDB when its nodes or settings change (digests in the command).
  run     = <<-EOT
    set -e
    # nodes ${sha256(local.nodes)} conf ${sha256(local.ctdb_conf)} public ${sha256(join(",", var.public_addresses))}
    systemctl enable ctdb
    systemctl restart ctdb
  EOT
  destroy = "systemctl disable --now smbd ctdb || true"
}

step "ctdb_healthy" {
  on    = var.gateways
  after = [step.ctdb]
  # Every node connected and the cluster out of recovery.
  wait {
    command = "ctdb nodestatus all >/dev/null && ctdb status | grep -q '^Recovery mode:NORMAL'"
    timeout = "180s"
  }
}

step "smbd" {
  on    = var.gateways
  after = [step.smb_conf, step.ctdb_healthy, step.ceph_conf, step.ceph_keyring]
  # The package started smbd and nmbd unclustered: smbd restarts on the
  # clustered configuration (its digest is here); NetBIOS is not needed.
  run = <<-EOT
    set -e
    # smb.conf ${sha256(local.smb_conf)}
    testparm -s >/dev/null
    systemctl disable --now nmbd 2>/dev/null || true
    systemctl enable smbd
    systemctl restart smbd
  EOT
}

step "ready" {
  on    = var.gateways
  after = [step.smbd]
  wait {
    port = 445
  }
}

output "share" {
  value       = var.share
  description = "the share's name: smb://GATEWAY/NAME"
}

output "stop" {
  value       = "systemctl stop smbd ctdb"
  description = "stops one gateway (its Samba and its CTDB node)"
}

output "start" {
  value       = "systemctl start ctdb && for i in $(seq 1 60); do ctdb nodestatus >/dev/null 2>&1 && break; sleep 2; done; systemctl start smbd"
  description = "starts it again and waits until its CTDB node is healthy before Samba"
}
