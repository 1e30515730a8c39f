recipe "t" {}

variable "path" {
  type    = string
  default = "/srv"
  format  = "path" # ERROR: Unknown format
}
