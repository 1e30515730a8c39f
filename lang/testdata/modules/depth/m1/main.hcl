step "x" { run = "echo 1" }
module "m2" { source = "../m2" }
