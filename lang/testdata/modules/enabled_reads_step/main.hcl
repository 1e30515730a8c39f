recipe "t" {}
hosts "server" {}
step "probe" {
  on  = hosts.server
  run = "true"
  capture {
    ok = "echo yes"
  }
}
module "a" {
  source = "./mods/a"
  on     = hosts.server
  lifecycle {
    enabled = step.probe.outputs["server[0]"].ok == "yes" # ERROR: step outputs not available here
  }
}
