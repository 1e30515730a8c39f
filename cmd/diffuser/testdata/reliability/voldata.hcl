# One host whose volume holds data (TestReliabilityDocker/replace): a change
# of the volume's size replaces the host and so destroys that data; the
# plan must say so and apply must ask.

recipe "voldata" {
  description = "a volume holding data, for replace confirmation tests"
}

variable "size" {
  type        = number
  default     = 1
  description = "size of the data volume in GB"
}

hosts "store" {
  count = 1
  volume "data" { size_gb = var.size }
}

step "fs" {
  on = hosts.store
  format {
    device = host.volume.data.device
    fstype = "xfs"
  }
}

step "mnt" {
  on    = hosts.store
  after = [step.fs]
  mount {
    source = host.volume.data.device
    target = "/srv/data"
    fstype = "xfs"
  }
}

step "seed" {
  on      = hosts.store
  after   = [step.mnt]
  run     = "echo precious > /srv/data/precious"
  creates = "/srv/data/precious"
}
