# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "up" {
  on = hosts.server
  wait {
    port     = 24007
    interval = "0s" # ERROR: Invalid wait interval
  }
}
