# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "up" {
  on = hosts.server
  wait {
    command = "gluster peer status"
    host    = "10.0.0.5" # ERROR: Conflicting wait arguments
  }
}
