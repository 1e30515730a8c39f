recipe "t" {}

hosts "server" {
  count = 2
  volume "brick" { size_gb = 10 }
}

step "brick" {
  on = hosts.server
  format {
    device = host.volume.brick.dev # ERROR: Unsupported attribute
    fstype = "xfs"
  }
}
