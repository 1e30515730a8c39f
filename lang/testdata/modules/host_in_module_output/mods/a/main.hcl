step "x" { run = "true" }
output "url" {
  value = "http://${host.private_ip}/" # ERROR: host not available here
}
