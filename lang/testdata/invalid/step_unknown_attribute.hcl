recipe "t" {}

hosts "server" {}

step "s" {
  on      = hosts.server
  run     = "true"
  onlyif  = "test -f /x" # ERROR: Unsupported argument
}
