# xfs on every host's data volume, mounted (TestReliabilityStatic/format:
# one volume already holds ext4 with a file on it).

recipe "formatguard" {
  description = "format refuses a device that holds a filesystem"
}

variable "force" {
  type        = bool
  default     = false
  description = "wipe whatever the volume holds"
}

hosts "node" {
  count = 2
  volume "data" { size_gb = 1 }
}

step "fs" {
  on = hosts.node
  format {
    device = host.volume.data.device
    fstype = "xfs"
    force  = var.force
  }
}

step "mnt" {
  on    = hosts.node
  after = [step.fs]
  mount {
    source = host.volume.data.device
    target = "/srv/guarded"
    fstype = "xfs"
  }
}
