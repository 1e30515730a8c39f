recipe "t" {}

variable "servers" { default = 2 }

variable "replica" {
  default = 2
  validation {
    condition     = var.replica <= var.sevrers # ERROR: Unknown variable
    error_message = "replica cannot exceed servers."
  }
}
