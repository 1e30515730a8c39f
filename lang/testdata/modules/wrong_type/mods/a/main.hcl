variable "size" { type = number }
step "x" { run = "echo ${var.size}" }
