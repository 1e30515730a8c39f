# STAGE: engine
recipe "t" {}

hosts "server" {}

step "s" {
  on  = [hosts.server[0], { name = "ghost[0]", private_ip = "10.0.0.9" }] # ERROR: Unknown host in on
  run = "true"
}
