# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "s" {
  on  = hosts.server[0].name # ERROR: Invalid on
  run = "true"
}
