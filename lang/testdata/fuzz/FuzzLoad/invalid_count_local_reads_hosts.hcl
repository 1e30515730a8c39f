go test fuzz v1
[]byte("recipe \"t\" {}\n\nlocals {\n  clients = length(hosts.client)\n}\n\nhosts \"client\" {}\n\nhosts \"server\" {\n  count = local.clients # ERROR: Value not known yet\n}\n")
