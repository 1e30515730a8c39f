go test fuzz v1
[]byte("recipe \"t\" {\n  ports = [\"22/tcp ssh\", null] # ERROR: Invalid ports\n}\n")
