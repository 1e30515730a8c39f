variable "name" {
  type = string
  validation {
    condition     = var.name # ERROR: Invalid validation condition
    error_message = "a string is not a rule."
  }
  validation {
    condition     = var.label == null ? null : true # ERROR: Invalid validation condition
    error_message = "null is not a rule."
  }
  validation {
    condition     = length(var.name) # ERROR: Invalid validation condition
    error_message = "a number is not a rule."
  }
  validation {
    condition     = length(var.name) > 0
    error_message = "name must not be empty."
  }
}

variable "label" {
  type    = string
  default = null
}

step "s" {
  run = "true"
}
