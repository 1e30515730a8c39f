recipe "t" {}

variable "servers" {
  type    = number
  default = "many" # ERROR: Invalid default value
}
