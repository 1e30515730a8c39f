step "x" { run = "true" }
