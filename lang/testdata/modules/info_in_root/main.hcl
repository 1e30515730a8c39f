recipe "t" {}
module_info { description = "no" } # ERROR: module_info outside a module
hosts "server" {}
