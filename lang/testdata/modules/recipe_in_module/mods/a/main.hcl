recipe "inner" {} # ERROR: recipe block in a module
step "x" { run = "true" }
