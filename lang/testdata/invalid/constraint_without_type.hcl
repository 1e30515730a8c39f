recipe "t" {}

variable "servers" {
  default = 2
  max     = 9 # ERROR: Constraint does not fit the variable's type
}
