recipe "t" {}

variable "servers" {
  type    = number
  default = 0 # ERROR: Default breaks the variable's constraints
  min     = 1
}
