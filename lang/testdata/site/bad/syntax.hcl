provider "cloud" {
  region = "eu-west-1" "x" # ERROR: Missing newline after argument
}
