recipe "t" {}

variable "port" {
  type   = number
  format = "host" # ERROR: Constraint does not fit the variable's type
}
