recipe "t" {}

hosts "server" {
  count = 2
}

step "s" {
  on  = hosts.server[0]
  run = "true"
  capture {
    v = "echo 1"
  }
}

hosts "client" {
  precondition {
    condition     = step.s.outputs.v == "1" # ERROR: step outputs not available here
    error_message = "no."
  }
}
