recipe "t" {}

hosts "server" { count = 2 }

step "brick" {
  on = hosts.server
  format {
    device = host.volume.brick.device # ERROR: Unknown volume
    fstype = "xfs"
  }
}
