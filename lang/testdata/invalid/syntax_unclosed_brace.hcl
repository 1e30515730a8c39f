recipe "t" {}

hosts "server" { # ERROR: Unclosed configuration block
  count = 2

step "s" {
  on  = hosts.server
  run = "true"
}
