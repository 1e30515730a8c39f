recipe "t" {}

hosts "server" { count = 2 }

step "glusterd" {
  on = hosts.server[0]
  service { name = "glusterd" }
}

output "pid" {
  value = step.glusterd.outputs.pid # ERROR: Unknown step output
}
