recipe "t" {}

locals {
  most = 3
}

variable "replica" {
  default = 2
  validation {
    condition     = var.replica <= local.most # ERROR: Invalid validation condition
    error_message = "replica cannot exceed 3."
  }
}
