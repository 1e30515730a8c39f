recipe "broken" {
  description = "an attribute without a value"
  ports =
}
