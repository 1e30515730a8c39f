# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "brick_mount" {
  on = hosts.server
  mount {
    source  = "/dev/xvdf"
    target  = "/data/brick"
    fstype  = "xfs"
    options = "noatime, _netdev" # ERROR: Invalid mount options
  }
}
