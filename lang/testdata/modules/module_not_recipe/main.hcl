module_info { description = "a module given where a recipe is expected" } # ERROR: A module, not a recipe
variable "x" { type = string }
step "y" { run = "echo ${var.x}" }
