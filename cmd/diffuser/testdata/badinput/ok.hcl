# A recipe that loads: the bad site files, variable files and state files
# are tried against it.
recipe "badinput" {
  description = "two servers saying hello"
}

variable "servers" {
  type    = number
  default = 2
  validation {
    condition     = var.servers >= 1
    error_message = "At least one server is needed."
  }
}

variable "greeting" {
  type    = string
  default = "hello"
}

variable "packages" {
  type    = list(string)
  default = []
}

hosts "server" {
  count = var.servers
}

step "hello" {
  on  = hosts.server
  run = "echo ${shellquote(var.greeting)} from ${host.name}"
}
