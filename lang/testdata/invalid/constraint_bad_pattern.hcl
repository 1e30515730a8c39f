recipe "t" {}

variable "name" {
  type    = string
  default = "a"
  pattern = "[a-z" # ERROR: Invalid pattern
}
