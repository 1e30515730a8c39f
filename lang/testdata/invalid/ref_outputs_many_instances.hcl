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

step "use" {
  on  = hosts.server[0]
  run = "echo ${step.keygen.outputs.key}" # ERROR: Attempt to get attribute from null value
}
