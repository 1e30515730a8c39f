# STAGE: engine
recipe "t" {}

hosts "server" {}

step "join" { # ERROR: Cycle between steps
  on  = hosts.server
  run = "join ${step.token.outputs.token}"
}

step "token" {
  on        = hosts.server[0]
  after_all = [step.join]
  run       = "true"
  capture { token = "cat /etc/token" }
}
