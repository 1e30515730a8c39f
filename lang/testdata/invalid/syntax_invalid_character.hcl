recipe "t" {}

hosts "server" {
  count = 2 ` # ERROR: Invalid character # ERROR: Missing newline after argument
}
