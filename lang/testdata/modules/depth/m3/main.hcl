step "x" { run = "echo 3" }
module "m4" { source = "../m4" }
