recipe "t" {}

hosts "server" {}

step "packages" {
  on      = hosts.server
  package = 42 # ERROR: Invalid value for package
}
