recipe "t" {}

variable "servers" {
  type = number
  min  = "one" # ERROR: Expected a number
}
