step "x" { run = "echo 6" }
module "m7" { source = "../m7" }
