recipe "t" {}

variable "servers" {
  type = integer # ERROR: Invalid type specification
}
