provider "static" {
  user = "root" "admin" # ERROR: Missing newline after argument
}
