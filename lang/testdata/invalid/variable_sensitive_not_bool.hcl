recipe "t" {}

variable "password" {
  type      = string
  default   = "x"
  sensitive = "very" # ERROR: Expected true or false
}
