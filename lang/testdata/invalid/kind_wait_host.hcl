# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "up" {
  on = hosts.server
  wait {
    port = 24007
    host = "db server" # ERROR: Invalid wait host
  }
}
