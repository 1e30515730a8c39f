recipe "t" {}

variable "a" { default = 1 }

variable "b" {
  default = var.a # ERROR: Variables not allowed
}
