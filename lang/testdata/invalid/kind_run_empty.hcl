# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "nothing" {
  on  = hosts.server
  run = "" # ERROR: Invalid run command
}
