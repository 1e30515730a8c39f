variable "servers" { type = number }
variable "replica" {
  type = number
  validation {
    condition     = var.servers % var.replicas == 0 # ERROR: Unknown variable
    error_message = "replica must divide servers."
  }
}
step "x" { run = "echo ${var.replica}" }
