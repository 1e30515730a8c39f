recipe "bad" {}

hosts "server" {}

step "config" { # ERROR: Cycle between steps
  on    = hosts.server
  after = [step.start]
  run   = "true"
}

step "install" {
  on    = hosts.server
  after = [step.config]
  run   = "true"
}

step "start" {
  on    = hosts.server
  after = [step.install]
  run   = "true"
}
