recipe "bad" {}

hosts "server" {
  volume "brick" { size_gb = 1 }
}

step "brick" {
  on = hosts.server
  format {
    devise = host.volume.brick.device # ERROR: Unsupported argument
    fstype = "xfs"
  }
}
