recipe "t" {}

hosts "server" {}

step "s" {
  on        = hosts.server
  after_all = [step.nope] # ERROR: Unknown step
  run       = "true"
}
