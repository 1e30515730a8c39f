recipe "t" {}

hosts "server" {}

step "a" {
  on  = hosts.server
  run = "true"
}

step "b" {
  on    = hosts.server
  after = [step["a"]] # ERROR: Invalid after entry
  run   = "true"
}
