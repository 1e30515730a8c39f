# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "s" {
  on  = hosts.server[2] # ERROR: Invalid index
  run = "true"
}
