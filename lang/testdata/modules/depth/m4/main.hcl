step "x" { run = "echo 4" }
module "m5" { source = "../m5" }
