# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "up" {
  on = hosts.server
  wait {
    port    = 24007
    command = "gluster peer status" # ERROR: Conflicting wait arguments
  }
}
