recipe "t" {}

hosts "server" {}

step "s" {
  on  = hosts.server
  run = "make"
  env = { CFLAGS = ["-O2"] } # ERROR: Invalid value for env
}
