step "x" { run = "echo 3" }
