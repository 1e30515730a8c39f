recipe "t" {}

variable "name" {
  default = "gv0"
  validation { # ERROR: Missing required argument
    condition = length(var.name) > 0
  }
}
