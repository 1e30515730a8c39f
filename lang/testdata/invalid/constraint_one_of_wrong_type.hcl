recipe "t" {}

variable "replica" {
  type   = number
  one_of = [1, 2, "three"] # ERROR: Invalid one_of
}
