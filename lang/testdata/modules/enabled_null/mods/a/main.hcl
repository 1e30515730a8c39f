variable "y" {
  type    = string
  default = "v"
}
step "x" { run = "echo ${var.y}" }
output "out" { value = var.y }
