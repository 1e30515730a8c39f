# STAGE: engine
recipe "t" {}

hosts "server" {}

step "a" { # ERROR: Cycle between steps
  on    = hosts.server
  after = [step.b]
  run   = "true"
}

step "b" {
  on    = hosts.server
  after = [step.a]
  run   = "true"
}
