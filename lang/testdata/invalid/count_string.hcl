recipe "t" {}

hosts "server" {
  count = "x" # ERROR: Expected a number
}
