recipe "t" {}

hosts "server" {}

step "s" {
  on  = hosts.servers # ERROR: Unknown host group
  run = "true"
}
