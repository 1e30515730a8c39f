variable "servers" {
  type = number
  validation {
    condition     = var.servers >= var.replica # reads replica, whose validation reads servers: no cycle
    error_message = "servers must be at least replica."
  }
}

variable "replica" {
  type = number
  validation {
    condition     = var.servers % var.replica == 0
    error_message = "replica must divide servers."
  }
}

variable "uris" {
  type    = list(string)
  default = []
}

variable "key" {
  type      = string
  default   = null
  sensitive = true
  validation {
    condition     = length(var.uris) == 0 || var.key != null
    error_message = "key is required when uris is set."
  }
}

step "pool" {
  run = "echo ${var.servers} ${var.replica}"
}
