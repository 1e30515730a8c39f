recipe "t" {}

hosts "server" {}

step "mount" {
  on = hosts.server
  mount {
    source = "/dev/sdb"
    target = "/data"
    fstype = "xfs"
    fstab  = "maybe" # ERROR: Incorrect attribute value type
  }
}
