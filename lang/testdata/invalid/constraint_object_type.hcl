recipe "t" {}

variable "also" {
  type   = object({ path = string })
  one_of = [{ path = "/a" }] # ERROR: Constraint does not fit the variable's type
}
