step "page" {
  file {
    path    = "index.html" # ERROR: Invalid file path
    content = "hello"
  }
}
