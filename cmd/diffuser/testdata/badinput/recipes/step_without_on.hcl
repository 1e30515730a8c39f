recipe "bad" {}

hosts "server" {}

step "hello" { # ERROR: Missing on
  run = "echo hello"
}
