recipe "t" {}

hosts "server" {}

step "s" { # ERROR: Missing on
  run = "true"
}
