recipe "t" {}

hosts "server" {}

step "s" {
  on  = "server" # ERROR: on names no hosts
  run = "true"
}
