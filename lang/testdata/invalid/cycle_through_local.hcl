# STAGE: engine
recipe "t" {}

locals {
  token = step.token.outputs.token
}

hosts "server" {}

step "join" { # ERROR: Cycle between steps
  on  = hosts.server
  run = "join ${local.token}"
}

step "token" {
  on    = hosts.server[0]
  after = [step.join]
  run   = "true"
  capture { token = "cat /etc/token" }
}
