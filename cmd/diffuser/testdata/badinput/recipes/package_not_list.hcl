recipe "bad" {}

hosts "server" {}

step "packages" {
  on      = hosts.server
  package = { name = "glusterfs-server" } # ERROR: Invalid value for package
}
