step "x" { run = "echo 2" }
module "m3" { source = "../m3" }
