recipe "t" {}

hosts "server" {}

step "s" {
  on      = hosts.server
  run     = "true"
  destroy = ["rm", "-f", "/x"] # ERROR: Invalid destroy
}
