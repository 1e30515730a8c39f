recipe "t" {}

variable "servers" { default = 2 }

variable "servers" { default = 3 } # ERROR: Duplicate variable
