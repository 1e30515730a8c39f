recipe "t" {}

hosts "server" { count = 2 }

step "keygen" {
  on  = hosts.server[0]
  run = "true"
  capture {
    key = "cat /etc/key"
  }
}

output "key" {
  value = step.keygen.output.key # ERROR: Unsupported attribute
}
