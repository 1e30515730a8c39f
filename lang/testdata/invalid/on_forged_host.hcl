# STAGE: engine
recipe "t" {}

hosts "server" {}

step "s" {
  on  = [hosts.server[0], { name = 1, private_ip = "10.0.0.9" }] # ERROR: Invalid on
  run = "true"
}
