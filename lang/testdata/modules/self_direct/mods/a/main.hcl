step "x" { run = "true" }
module "me" { source = "./" } # ERROR: Module includes itself
