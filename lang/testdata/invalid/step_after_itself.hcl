recipe "t" {}

hosts "server" {}

step "s" {
  on    = hosts.server
  after = [step.s] # ERROR: Step waits for itself
  run   = "true"
}
