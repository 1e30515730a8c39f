recipe "t" {}

variable "servers" { # ERROR: Invalid value for variable
  type    = number
  default = 0
  validation {
    condition     = var.servers >= 1
    error_message = "At least one server is needed."
  }
}
