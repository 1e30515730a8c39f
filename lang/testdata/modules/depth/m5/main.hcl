step "x" { run = "echo 5" }
module "m6" { source = "../m6" }
