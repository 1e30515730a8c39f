# STAGE: engine
recipe "t" {}

hosts "server" {}

hosts "client" {}

# host is only with port: a value known only once server[0] is launched is
# still a value written, so validate refuses it now.
step "up" {
  on = hosts.client
  wait {
    command = "true"
    host    = hosts.server[0].private_ip # ERROR: Conflicting wait arguments
  }
}
