step "y" { run = "true" }
