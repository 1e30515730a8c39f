recipe "t" {}

hosts "server" {}

step "s" {
  on  = hosts.server
  run = "echo ${path.module}" # ERROR: Unknown reference
}
