recipe "t" {}

variable "servers" {
  type = number
  min  = 5
  max  = 3 # ERROR: Invalid constraint
}
