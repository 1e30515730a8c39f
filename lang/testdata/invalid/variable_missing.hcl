recipe "t" {}

variable "password" { # ERROR: Missing variable
  type      = string
  sensitive = true
}
