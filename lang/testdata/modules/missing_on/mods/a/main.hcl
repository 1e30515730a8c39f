step "x" { run = "true" } # ERROR: Missing on
