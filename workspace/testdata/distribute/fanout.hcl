recipe "distribute" {
  description = "One artifact delivered to every node by the distribute step (relay or direct)"
}

variable "hosts" {
  type        = number
  default     = 4
  description = "how many nodes get the artifact"
}

variable "source" {
  type        = string
  description = "path on the operator's machine or http(s) URL of the artifact"
}

variable "dest" {
  type        = string
  default     = "/var/tmp/artifact.bin"
  description = "where the artifact goes on every node"
}

variable "mode" {
  type        = string
  default     = "relay"
  description = "relay (hosts pass it on to each other) or direct (one upload per host)"
}

variable "fanout" {
  type        = number
  default     = 1
  description = "1: a chain; k: a tree in which each node feeds k others"
}

variable "sha256" {
  type        = string
  default     = null
  description = "expected sha256 of the artifact (recommended for URLs)"
}

hosts "node" { count = var.hosts }

step "artifact" {
  on = hosts.node
  distribute {
    source = var.source
    dest   = var.dest
    mode   = var.mode
    fanout = var.fanout
    sha256 = var.sha256
  }
}
