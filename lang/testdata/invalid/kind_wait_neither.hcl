# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "up" {
  on = hosts.server
  wait { # ERROR: Missing wait argument
    timeout = "60s"
  }
}
