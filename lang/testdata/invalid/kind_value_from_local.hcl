# STAGE: engine
recipe "t" {}

locals {
  mountpoint = "mnt/gluster"
}

hosts "client" {}

step "mount" {
  on = hosts.client
  mount {
    source = "server:/gv0"
    target = local.mountpoint # ERROR: Invalid mount target
    fstype = "glusterfs"
  }
}
