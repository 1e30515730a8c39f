variable "family" { type = string }
variable "name" { type = string }
variable "device" { type = string }
step "x" { run = "echo ${var.family} ${var.name} ${var.device}" }
