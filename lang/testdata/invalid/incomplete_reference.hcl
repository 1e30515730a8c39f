recipe "t" {}

hosts "server" {}

step "s" {
  on  = hosts.server
  run = "echo ${jsonencode(var)}" # ERROR: Incomplete reference
}
