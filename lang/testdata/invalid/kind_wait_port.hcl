# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "up" {
  on = hosts.server
  wait {
    port = 99999 # ERROR: Invalid wait port
  }
}
