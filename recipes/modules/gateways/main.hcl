module_info {
  description = "NFS and SMB gateways in front of a GlusterFS volume or a CephFS filesystem: NFS-Ganesha (FSAL_GLUSTER or FSAL_CEPH) and Samba clustered with CTDB (vfs_glusterfs or vfs_ceph) on the first hosts of a gateway group; clients mounting through them with GVfs; verify blocks that read through one gateway what was written through another, then again with a gateway stopped"
}

variable "gateways" {
  type        = any
  description = "the gateway hosts, e.g. hosts.gateway: the first `nfs` of them run NFS-Ganesha, the first `smb` Samba and CTDB"
}

variable "clients" {
  type        = any
  description = "the hosts that mount through the gateways, e.g. hosts.gateway_client (the only ones the gateways let in): client i through gateway i mod N, NFS at /mnt/nfs-gateway, SMB at /mnt/smb-gateway; [] mounts nothing and turns the verify blocks off"
}

variable "nfs" {
  type        = number
  description = "how many of the gateways serve NFS (NFSv3 and NFSv4), from the first; a count that is negative or not whole fails at the slice below"
  min         = 0
  integer     = true
}

variable "smb" {
  type        = number
  description = "how many of the gateways serve SMB, clustered with CTDB, from the first"
  min         = 0
  integer     = true
}

variable "backend" {
  type        = string
  description = "\"gluster\" (FSAL_GLUSTER, vfs_glusterfs: libgfapi) or \"ceph\" (FSAL_CEPH, vfs_ceph: libcephfs)"
  one_of      = ["gluster", "ceph"]
}

variable "volume" {
  type        = string
  description = "the GlusterFS volume or CephFS filesystem; also the SMB share's name and the NFS path (/VOLUME)"
  pattern     = "[a-zA-Z][a-zA-Z0-9_-]{0,79}"
}

variable "servers" {
  type        = list(string)
  default     = []
  description = "gluster: the volume's servers' addresses, where the gateways fetch the volume layout"
  format      = "host"
}

variable "ceph_conf" {
  type        = string
  default     = ""
  description = "ceph: the content of /etc/ceph/ceph.conf (fsid and monitors)"
}

variable "ceph_user" {
  type        = string
  default     = "admin"
  description = "ceph: the cephx user (without \"client.\") Ganesha and Samba connect as"
}

variable "ceph_keyring" {
  type        = string
  default     = ""
  sensitive   = true
  description = "ceph: the keyring of ceph_user"
}

variable "public_addresses" {
  type        = list(string)
  default     = []
  description = "CTDB's floating addresses for the SMB gateways, \"ADDRESS/PREFIX INTERFACE\" each (e.g. \"10.0.0.100/24 eth0\"): CTDB holds each on one healthy gateway and moves it on failure. Needs CAP_NET_ADMIN on the gateways (containers lack it)"
  pattern     = "[0-9a-fA-F.:]+/[0-9]+ [a-zA-Z0-9_.-]+"
}

locals {
  nfs_gateways  = slice(var.gateways, 0, min(var.nfs, length(var.gateways)))
  smb_gateways  = slice(var.gateways, 0, min(var.smb, length(var.gateways)))
  client_ips    = [for h in var.clients : h.private_ip]
  pseudo        = "/${var.volume}"
  ceph_gateways = var.backend == "ceph" ? var.gateways : []
  # NFSv4 grace after a Ganesha (re)start, during which clients reclaim
  # state and new opens wait (Ganesha's own default is 90 s); the lease is
  # half of it.
  nfs_grace_seconds = 20
  # A failover check stops one NFS gateway's Ganesha. On CephFS, FSAL_CEPH
  # leaves its MDS session behind on purpose when it stops (ceph_abort_conn,
  # with a 300 s session timeout, so that the restarted Ganesha can reclaim
  # its clients' state): the capabilities it held on files, such as one
  # just written through it, are the MDS's to give to another gateway only
  # when that session times out. The check waits out the first 150 s here
  # and the read through the other gateway waits for the rest (each has 3
  # minutes). See docs/gateways.md.
  nfs_stop = var.backend == "ceph" ? "systemctl stop nfs-ganesha && sleep 150" : "systemctl stop nfs-ganesha"
  # A failover check stops one SMB gateway's Samba and CTDB node; starting
  # it again waits until the node is healthy before Samba.
  smb_stop  = "systemctl stop smbd ctdb"
  smb_start = "systemctl start ctdb && for i in $(seq 1 60); do ctdb nodestatus >/dev/null 2>&1 && break; sleep 2; done; systemctl start smbd"

  # libgfapi finds the client translators (protocol/client, replicate, ...)
  # in glusterfs-common, which nfs-ganesha-gluster does not pull in:
  # without them every export fails with "Unable to initialize volume".
  nfs_packages = var.backend == "gluster" ? ["nfs-ganesha", "nfs-ganesha-gluster", "glusterfs-common"] : ["nfs-ganesha", "nfs-ganesha-ceph", "ceph-common"]

  nfs_fsal_gluster = <<-EOT
      FSAL {
        Name = GLUSTER;
        Hostname = "${length(var.servers) > 0 ? var.servers[0] : "localhost"}";
        Volume = "${var.volume}";
      }
  EOT
  nfs_fsal_ceph    = <<-EOT
      FSAL {
        Name = CEPH;
        Filesystem = "${var.volume}";
        User_Id = "${var.ceph_user}";
      }
  EOT

  # The headers of the files written here name the modules that wrote them
  # before builtin/gateways held them (nfs-ganesha, samba-ctdb): the same
  # text keeps those clusters' digests, so moving to this module restarts
  # nothing.
  nfs_conf = <<-EOT
    # Written by diffuser (module nfs-ganesha); overwritten on every apply.
    NFS_CORE_PARAM {
      Protocols = 3, 4;
      # NFSv3 clients mount the pseudo path too.
      Mount_Path_Pseudo = true;
      MNT_Port = 20048;
      NLM_Port = 32803;
    }
    NFSV4 {
      Grace_Period = ${local.nfs_grace_seconds};
      Lease_Lifetime = ${floor(local.nfs_grace_seconds / 2)};
    }
  EOT

  ctdb_nodes = "${join("\n", [for h in local.smb_gateways : h.private_ip])}\n"

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
    netbios name = DIFFUSER-${upper(substr(var.volume, 0, 6))}
    workgroup = WORKGROUP
    server role = standalone server
    server min protocol = SMB2_10
    # Guests are root on the share: diffuser verify writes as root, and the
    # cluster a recipe builds is one trust domain. Only the clients may connect.
    map to guest = Bad User
    hosts allow = 127.0.0.1 ${join(" ", concat([for h in local.smb_gateways : h.private_ip], local.client_ips))}
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

    [${var.volume}]
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

# ceph: the cluster's configuration and the user's key, for Ganesha and
# Samba alike (no instances with gluster: ceph_gateways is empty).
module "ceph_files" {
  source       = "builtin/ceph-conf"
  on           = local.ceph_gateways
  after        = [step.nfs_packages, step.smb_packages]
  conf         = var.ceph_conf
  keyring_path = "/etc/ceph/ceph.client.${var.ceph_user}.keyring"
  keyring      = var.ceph_keyring
}

# ------------------------------------------------------------ NFS-Ganesha
# One export on every NFS gateway, NFSv3 and NFSv4.

step "nfs_packages" {
  on      = local.nfs_gateways
  package = local.nfs_packages
}

# ganesha.conf with the export (the volume's root at /VOLUME) in it, for
# the clients only: a change restarts the daemon (the package started it
# with its example configuration, so the first apply restarts it too). It
# starts once the Ceph files are there.
module "ganesha" {
  source = "builtin/ganesha"
  after  = [step.nfs_packages, module.ceph_files]
  hosts  = local.nfs_gateways
  config = local.nfs_conf
  export = {
    path    = "/"
    pseudo  = local.pseudo
    fsal    = var.backend == "gluster" ? local.nfs_fsal_gluster : local.nfs_fsal_ceph
    clients = local.client_ips
  }
}

# --------------------------------------------------------- Samba and CTDB
# Every SMB gateway is a CTDB node and serves the same share.

step "smb_packages" {
  on = local.smb_gateways
  # vfs_glusterfs's libgfapi needs the client translators of glusterfs-common;
  # vfs_ceph's libcephfs is in ceph-common.
  package = concat(["samba", "samba-vfs-modules", "ctdb", "tdb-tools"], var.backend == "gluster" ? ["glusterfs-common"] : ["ceph-common"])
  # CTDB adds and removes public addresses with ip(8): without CAP_NET_ADMIN
  # it fails at takeover, minutes into a run. Checked by diffuser once the
  # gateway's facts are known, before anything is installed on it.
  precondition {
    condition     = length(var.public_addresses) == 0 || contains(host.facts.capabilities, "net_admin")
    error_message = "CTDB public_addresses need CAP_NET_ADMIN, and the capability bounding set of ${host.name} lacks it. In a container, add it (docker run --cap-add NET_ADMIN); or leave public_addresses empty."
  }
}

step "ctdb_nodes" {
  on    = local.smb_gateways
  after = [step.smb_packages]
  file {
    path    = "/etc/ctdb/nodes"
    content = local.ctdb_nodes
  }
}

step "ctdb_public" {
  on    = local.smb_gateways
  after = [step.smb_packages]
  file {
    path    = "/etc/ctdb/public_addresses"
    content = length(var.public_addresses) == 0 ? "" : "${join("\n", var.public_addresses)}\n"
  }
}

step "ctdb_conf" {
  on    = local.smb_gateways
  after = [step.smb_packages]
  file {
    path    = "/etc/ctdb/ctdb.conf"
    content = local.ctdb_conf
  }
}

step "smb_conf" {
  on    = local.smb_gateways
  after = [step.smb_packages]
  file {
    path    = "/etc/samba/smb.conf"
    content = local.smb_conf
  }
}

step "ctdb" {
  on = local.smb_gateways
  # CTDB restarts when its nodes, public addresses or settings change.
  restart_on = [step.ctdb_nodes, step.ctdb_public, step.ctdb_conf]
  service {
    name    = "ctdb"
    enabled = true
  }
  destroy = "systemctl disable --now smbd ctdb || true"
}

step "ctdb_healthy" {
  on    = local.smb_gateways
  after = [step.ctdb]
  # Every node connected and the cluster out of recovery.
  wait {
    command = "ctdb nodestatus all >/dev/null && ctdb status | grep -q '^Recovery mode:NORMAL'"
    timeout = "180s"
  }
}

step "smb_check" {
  on = local.smb_gateways
  # testparm refuses a broken smb.conf before smbd restarts on it. The
  # package started nmbd too: NetBIOS is not needed.
  restart_on = [step.smb_conf]
  run        = <<-EOT
    set -e
    testparm -s >/dev/null
    systemctl disable --now nmbd 2>/dev/null || true
  EOT
}

step "smbd" {
  on    = local.smb_gateways
  after = [step.smb_check, step.ctdb_healthy, module.ceph_files]
  # The package started smbd unclustered: it restarts on the clustered
  # configuration, and whenever smb.conf changes.
  restart_on = [step.smb_conf]
  service {
    name    = "smbd"
    enabled = true
  }
}

step "smb_ready" {
  on    = local.smb_gateways
  after = [step.smbd]
  wait {
    port = 445
  }
}

# Client i mounts through gateway i mod N of each protocol.
module "nfs_mount" {
  source      = "builtin/gvfs-mount"
  after       = [module.ganesha]
  clients     = var.nfs > 0 ? var.clients : []
  name        = "nfs-gateway"
  protocol    = "nfs"
  server      = local.nfs_gateways[host.index % max(length(local.nfs_gateways), 1)].private_ip
  share       = local.pseudo
  mount_point = "/mnt/nfs-gateway"
}

module "smb_mount" {
  source      = "builtin/gvfs-mount"
  after       = [step.smb_ready]
  clients     = var.smb > 0 ? var.clients : []
  name        = "smb-gateway"
  protocol    = "smb"
  server      = local.smb_gateways[host.index % max(length(local.smb_gateways), 1)].private_ip
  share       = var.volume
  mount_point = "/mnt/smb-gateway"
}

# Client 0 writes through gateway 0, client 1 reads through gateway 1; then
# a second file is written through gateway 0, gateway 0's daemon stopped,
# and client 1 reads that file (its first read there) through gateway 1.
verify "nfs" {
  enabled = var.nfs > 0 && length(var.clients) > 0
  on      = var.clients
  path    = module.nfs_mount.mount_point
  # With one NFS gateway there is none to fail over to: no failover.
  failover {
    on    = var.nfs > 1 ? slice(local.nfs_gateways, 0, 1) : []
    stop  = local.nfs_stop
    start = "systemctl start nfs-ganesha"
  }
}

verify "smb" {
  enabled = var.smb > 0 && length(var.clients) > 0
  on      = var.clients
  path    = module.smb_mount.mount_point
  failover {
    on    = var.smb > 1 ? slice(local.smb_gateways, 0, 1) : []
    stop  = local.smb_stop
    start = local.smb_start
  }
}

output "nfs" {
  value       = [for h in local.nfs_gateways : "${h.private_ip}:${local.pseudo}"]
  description = "what NFS clients mount, one per NFS gateway (NFSv3 and NFSv4)"
}

output "smb" {
  value       = [for h in local.smb_gateways : "//${h.private_ip}/${var.volume}"]
  description = "the SMB share, one address per SMB gateway"
}
