recipe "t" {}

hosts "server" {
  count = 2
  volume "brick" { size_gb = 10 }
}

step "brick" {
  on = hosts.server
  format {
    device = host.volume.brik.device # ERROR: Unknown volume
    fstype = "xfs"
  }
}
