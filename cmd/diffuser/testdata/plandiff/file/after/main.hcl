recipe "plandiff" {
  description = "file content diffs"
}

hosts "server" {}

step "config" {
  on = hosts.server
  file {
    path    = "/etc/app/app.conf"
    mode    = "0600"
    content = <<-EOT
      option_1 = value_1
      option_2 = value_2
      option_3 = value_3
      option_3b = inserted
      option_4 = value_4
      option_5 = value_5
      option_6 = value_6
      option_7 = value_7
      option_8 = value_8
      option_9 = value_9
      option_10 = value_10
      option_11 = value_11
      option_12 = value_12
      option_13 = value_13
      option_14 = value_14
      option_15 = CHANGED
      option_16 = value_16
      option_17 = value_17
      option_18 = value_18
      option_19 = value_19
      option_20 = value_20
      option_21 = value_21
      option_22 = value_22
      option_23 = value_23
      option_24 = value_24
      option_26 = value_26
      option_27 = value_27
      option_28 = value_28
      option_29 = value_29
      option_30 = value_30
      option_31 = appended
    EOT
  }
}
