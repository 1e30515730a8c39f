hosts "extra" {} # ERROR: hosts block in a module
step "x" { run = "true" }
