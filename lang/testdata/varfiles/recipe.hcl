# The recipe the variable-file and site-file tests resolve variables of.
recipe "vars" {
  description = "variables of every shape"
}

variable "servers" {
  type    = number
  default = 2
  validation {
    condition     = var.servers >= 1 && var.servers <= 64
    error_message = "servers must be between 1 and 64."
  }
}

variable "replica" {
  type    = number
  default = 1
}

variable "volume_name" {
  type    = string
  default = "gv0"
}

variable "packages" {
  type    = list(string)
  default = ["glusterfs-server"]
}

variable "options" {
  type    = map(string)
  default = {}
}

variable "debug" {
  type    = bool
  default = false
}

variable "anything" {
  default = null
}

variable "password" {
  type      = string
  default   = "changeme"
  sensitive = true
}

hosts "server" {
  count = var.servers
}
