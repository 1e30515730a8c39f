recipe "t" {}

variable "mode" {
  type   = string
  one_of = "fuse" # ERROR: Invalid one_of
}
