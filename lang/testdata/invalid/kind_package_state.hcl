# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "packages" {
  on = hosts.server
  package {
    names = ["xfsprogs"]
    state = "latest" # ERROR: Invalid package state
  }
}
