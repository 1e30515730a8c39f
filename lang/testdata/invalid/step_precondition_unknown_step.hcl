recipe "t" {}

hosts "server" {}

step "probe" {
  on  = hosts.server
  run = "true"
  capture {
    mode = "echo ok"
  }
}

step "s" {
  on  = hosts.server
  run = "true"
  precondition {
    condition     = step.prob.outputs.mode == "ok" # ERROR: Unknown step
    error_message = "the probe failed"
  }
}
