step "x" { run = "echo 7" }
module "m8" { source = "../m8" }
