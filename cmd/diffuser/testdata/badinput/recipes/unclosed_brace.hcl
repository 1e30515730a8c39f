recipe "bad" {}

hosts "server" { # ERROR: Unclosed configuration block
  count = 2

step "hello" {
  on  = hosts.server
  run = "echo hello"
}
