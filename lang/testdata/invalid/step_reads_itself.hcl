recipe "t" {}

hosts "server" {}

step "keygen" {
  on      = hosts.server
  run     = "echo ${step.keygen.outputs.key}" # ERROR: Step refers to itself
  capture { key = "cat /etc/key" }
}
