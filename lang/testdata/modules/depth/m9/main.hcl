step "x" { run = "echo 9" }
