variable "y" { type = string }
step "x" { run = "true" }
output "out" { value = var.y }
