# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "init" {
  on  = hosts.server
  run = "true"
  env = { "MY-VAR" = "x" } # ERROR: Invalid run env
}
