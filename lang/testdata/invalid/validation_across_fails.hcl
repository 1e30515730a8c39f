recipe "t" {}

# A validation may read other variables: decided once all have values.
# VAR: servers=3

variable "servers" { default = 2 }

variable "replica" { # ERROR: Invalid value for variable
  default = 2
  validation {
    condition     = var.servers % var.replica == 0
    error_message = "replica must divide servers."
  }
}
