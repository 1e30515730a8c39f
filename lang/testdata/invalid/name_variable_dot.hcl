recipe "t" {}

variable "a.b" { default = 1 } # ERROR: Invalid variable name
