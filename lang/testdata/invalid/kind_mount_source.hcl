# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "brick_mount" {
  on = hosts.server
  mount {
    source = "-o remount" # ERROR: Invalid mount source
    target = "/data/brick"
    fstype = "xfs"
  }
}
