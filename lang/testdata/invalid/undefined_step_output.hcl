recipe "t" {}

hosts "server" {}

step "s" {
  on  = hosts.server
  run = "echo ${step.keygen.outputs.key}" # ERROR: Unknown step
}
