recipe "t" {}

variable "network" {
  type        = string
  default     = ""
  allow_empty = true # ERROR: Invalid constraint
}
