step "x" { run = "true" }
module "b" { source = "../b" }
