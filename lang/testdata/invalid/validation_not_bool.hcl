recipe "t" {}

variable "name" {
  default = "gv0"
  validation {
    condition     = var.name # ERROR: Invalid validation condition
    error_message = "bad name."
  }
}
