variable "x" {
  type = number
  validation {
    condition     = var.x <= var.y
    error_message = "x is at most y."
  }
}
variable "y" { type = number }
output "x" { value = var.x }
step "s" { run = "echo ${var.x}" }
