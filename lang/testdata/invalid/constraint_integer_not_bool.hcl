recipe "t" {}

variable "servers" {
  type    = number
  integer = "yes" # ERROR: Expected true or false
}
