recipe "t" {}

hosts "server" {
  replace_note = "heal from ${step.s.outputs.x}" # ERROR: step outputs not available here
}

step "s" {
  on  = hosts.server
  run = "true"
  capture {
    x = "echo x"
  }
}
