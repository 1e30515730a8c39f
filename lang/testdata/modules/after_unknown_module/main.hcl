recipe "t" {}
hosts "server" {}
step "y" {
  on    = hosts.server
  after = [module.nope] # ERROR: Unknown module
  run   = "true"
}
