recipe "t" {}

hosts "server" {}

step "s" {
  on  = host # ERROR: host not available here
  run = "true"
}
