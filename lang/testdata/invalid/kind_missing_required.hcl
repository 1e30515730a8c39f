recipe "t" {}

hosts "server" {}

step "mount" {
  on = hosts.server
  mount { # ERROR: Missing required argument
    source = "/dev/sdb"
    target = "/data"
  }
}
