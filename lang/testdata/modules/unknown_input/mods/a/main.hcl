variable "name" { type = string }
step "x" { run = "echo ${var.name}" }
