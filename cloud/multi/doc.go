// Package multi is one cloud.Provider over several: a cluster whose host
// groups run on different providers (docker servers with static clients,
// aws in two regions). It dispatches each call on the HostSpec's Provider
// key and cleans up every provider it holds. It imports only cloud.
package multi
