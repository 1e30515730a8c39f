# STAGE: engine
recipe "t" {}

hosts "server" {}

step "up" {
  on = hosts.server
  wait {
    command = " " # ERROR: Invalid wait command
  }
}
