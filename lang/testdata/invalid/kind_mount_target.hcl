# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "brick_mount" {
  on = hosts.server
  mount {
    source = "/dev/xvdf"
    target = "data/brick" # ERROR: Invalid mount target
    fstype = "xfs"
  }
}
