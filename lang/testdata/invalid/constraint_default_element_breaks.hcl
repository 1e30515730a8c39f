recipe "t" {}

variable "export_to" {
  type    = list(string)
  default = ["10.0.0.0/8", "bad value"] # ERROR: Default breaks the variable's constraints
  pattern = "[a-zA-Z0-9.:/*_-]+"
}
