recipe "t" {}

hosts "server" {
  count = step.probe.outputs.n # ERROR: step outputs not available here
}

step "probe" {
  on  = hosts.server
  run = "nproc"
  capture { n = "nproc" }
}
