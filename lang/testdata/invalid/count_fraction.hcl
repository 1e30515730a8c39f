recipe "t" {}

hosts "server" {
  count = 1.5 # ERROR: Expected a whole number
}
