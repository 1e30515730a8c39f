variable "token" { type = string }
step "s" { # ERROR: Cycle between steps
  run = "echo ${var.token}"
  capture { k = "echo k" }
}
output "out" { value = step.s.outputs.k }
