# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "keygen" {
  on  = hosts.server
  run = "true"
  capture {
    key = "cat /etc/key"
  }
}

output "key" {
  value = step.keygen.hosts["server[2]"].outputs.key # ERROR: Invalid index
}
