recipe "t" {}

hosts "server" {}

step { # ERROR: Missing name for step
  on  = hosts.server
  run = "true"
}
