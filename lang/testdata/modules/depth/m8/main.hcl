step "x" { run = "echo 8" }
module "m9" { source = "../m9" } # ERROR: Modules nested too deep
