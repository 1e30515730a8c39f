# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "up" {
  on = hosts.server
  wait {
    port    = 24007
    timeout = "90 seconds" # ERROR: Invalid wait timeout
  }
}
