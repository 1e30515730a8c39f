recipe "t" {}

variable "servers" { default = 2 }

variable "replica" {
  default = 2
  validation {
    condition     = var.replica <= var.servers # ERROR: Invalid validation condition
    error_message = "replica cannot exceed servers."
  }
}
