recipe "t" {}

hosts "server" {}

step "s" {
  on      = hosts.server
  run     = "sleep 1"
  timeout = "a while" # ERROR: Invalid timeout
}
