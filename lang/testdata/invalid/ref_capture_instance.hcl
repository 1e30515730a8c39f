recipe "t" {}

hosts "server" { count = 2 }

step "keygen" {
  on  = hosts.server
  run = "true"
  capture {
    key = "cat /etc/key"
  }
}

locals {
  key = step.keygen.hosts["server[1]"].outputs.keys # ERROR: Unknown step output
}
