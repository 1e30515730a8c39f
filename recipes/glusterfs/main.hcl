recipe "glusterfs" {
  description = "GlusterFS volume over N servers (distributed, replicated or dispersed), FUSE-mounted on every client"
  # GlusterFS needs these open between members; cloud providers document them on the cluster firewall.
  ports = ["22/tcp ssh", "111/tcp+udp portmapper", "24007-24008/tcp glusterd", "49152-49251/tcp bricks"]
}

variable "servers" {
  type        = number
  default     = 2
  description = "Number of GlusterFS servers, one brick each."
  validation {
    condition     = var.servers >= 1
    error_message = "At least one server is needed."
  }
}

variable "replica" {
  type        = number
  default     = 2
  description = "Copies of every file: 1 = distributed (no redundancy), 2 or 3 = replicated. The server count must be a multiple of it."
  validation {
    condition     = var.replica >= 1 && var.replica <= 3
    error_message = "replica must be 1, 2 or 3."
  }
}

variable "disperse" {
  type        = number
  default     = 0
  description = "Erasure coding: bricks per dispersed set (0 = off). When set, replica must be 1 and redundancy = disperse_redundancy."
}

variable "disperse_redundancy" {
  type        = number
  default     = 1
  description = "Bricks per dispersed set that may fail without losing data."
}

variable "clients" {
  type        = number
  default     = 1
  description = "Number of client hosts that FUSE-mount the volume."
}

variable "brick_size_gb" {
  type        = number
  default     = 2
  description = "Size of each server's brick volume."
}

variable "volume_name" {
  type    = string
  default = "gv0"
  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_-]*$", var.volume_name))
    error_message = "volume_name must be letters, digits, - and _."
  }
}

locals {
  layout = (var.disperse > 0
    ? "disperse ${var.disperse} redundancy ${var.disperse_redundancy}"
    : (var.replica > 1 ? "replica ${var.replica}" : ""))
  bricks = join(" ", [for h in hosts.server : "${h.private_ip}:/data/brick/${var.volume_name}"])
}

hosts "server" {
  count = var.servers
  volume "brick" { size_gb = var.brick_size_gb }
}

hosts "client" {
  count = var.clients
}

step "packages" {
  on      = hosts.server
  package = ["glusterfs-server", "xfsprogs"]
}

step "brick" {
  on = hosts.server
  # Refuses a device that already holds a filesystem: bricks are never reformatted.
  format {
    device = host.volume.brick.device
    fstype = "xfs"
    # GlusterFS keeps its metadata in extended attributes; 512-byte inodes keep them inline.
    options = ["-i", "size=512"]
  }
}

step "brick_mount" {
  on    = hosts.server
  after = [step.brick, step.packages]
  mount {
    source = host.volume.brick.device
    target = "/data/brick"
    fstype = "xfs"
    fstab  = true
  }
}

step "glusterd" {
  on    = hosts.server
  after = [step.packages]
  service {
    name    = "glusterd"
    state   = "started"
    enabled = true
  }
}

step "volume" {
  on    = hosts.server[0]
  after = [step.glusterd, step.brick_mount]
  # Peer probes from the first server; probing an existing peer is a no-op.
  run = <<-EOT
    set -e
    %{ for h in hosts.server ~}
    gluster --mode=script peer probe ${h.private_ip}
    %{ endfor ~}
    # A probed peer is usable only once it reaches "Peer in Cluster";
    # volume create fails before that.
    for i in $(seq 1 120); do
      [ "$(gluster peer status | grep -c 'Peer in Cluster (Connected)')" -ge ${var.servers - 1} ] && break
      sleep 1
    done
    # Each half is guarded, so a retry after a partial run finishes the job.
    gluster volume info ${var.volume_name} >/dev/null 2>&1 ||
      gluster --mode=script volume create ${var.volume_name} ${local.layout} ${local.bricks} force
    gluster volume info ${var.volume_name} | grep -q '^Status: Started' ||
      gluster --mode=script volume start ${var.volume_name}
  EOT
  unless  = "gluster volume info ${var.volume_name} | grep -q '^Status: Started'"
  retries = 2
  destroy = "gluster --mode=script volume stop ${var.volume_name} force; gluster --mode=script volume delete ${var.volume_name}"
}

step "client_packages" {
  on      = hosts.client
  package = ["glusterfs-client"]
}

step "mount" {
  on    = hosts.client
  after = [step.volume, step.client_packages]
  mount {
    source  = "${hosts.server[0].private_ip}:/${var.volume_name}"
    target  = "/mnt/gluster"
    fstype  = "glusterfs"
    options = "backup-volfile-servers=${join(":", [for h in hosts.server : h.private_ip])}"
  }
}

verify "roundtrip" {
  on   = hosts.client
  path = "/mnt/gluster"
}

output "mount" {
  value = "${hosts.server[0].private_ip}:/${var.volume_name}"
}
