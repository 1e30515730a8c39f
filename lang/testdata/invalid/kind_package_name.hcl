# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "packages" {
  on      = hosts.server
  package = ["xfsprogs", "-y"] # ERROR: Invalid package names
}
