recipe "t" {}

variable "name" {
  type    = string
  default = "gv0"
  min     = 1 # ERROR: Constraint does not fit the variable's type
}
