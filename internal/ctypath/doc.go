// Package ctypath writes a cty.Path as a person writes it in HCL
// (groups.server.instance_type, addresses[2], volumes["brick"]), for
// messages of cloud settings checks and of lang's variables. It imports
// nothing of diffuser's.
package ctypath
