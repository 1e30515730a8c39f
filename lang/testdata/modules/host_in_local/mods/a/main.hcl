variable "dev" { type = string }
locals {
  where = "on ${var.dev}" # ERROR: Value differs per host
}
step "x" { run = "echo ${var.dev}" }
