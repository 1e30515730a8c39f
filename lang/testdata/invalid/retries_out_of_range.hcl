recipe "t" {}

hosts "server" {}

step "s" {
  on      = hosts.server
  run     = "true"
  retries = 1000 # ERROR: Value out of range
}
