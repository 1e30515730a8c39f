recipe "t" {}

hosts "server" {}

step "s" {
  on      = hosts.server
  package = ["xfsprogs"]
  creates = "/usr/sbin/mkfs.xfs" # ERROR: Attribute only valid for run steps
}
