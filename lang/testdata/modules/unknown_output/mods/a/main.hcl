step "x" { run = "true" }
output "greeting" { value = "hi" }
