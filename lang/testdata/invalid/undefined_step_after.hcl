recipe "t" {}

hosts "server" {}

step "s" {
  on    = hosts.server
  after = [step.packages] # ERROR: Unknown step
  run   = "true"
}
