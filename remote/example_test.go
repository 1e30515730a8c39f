package remote_test

import (
	"context"
	"fmt"
	"time"

	"diffuser/remote"
	"diffuser/runner"
)

func Example() {
	ctx := context.Background()
	keyPath, authorizedKey, err := remote.GenerateKey(".diffuser/ssh")
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = authorizedKey // goes into the hosts' authorized_keys (cloud-init, key pair)

	pool := remote.NewPool()
	defer pool.Close()
	c, err := pool.Connect(ctx, remote.Config{
		Name:     "node-1",
		Address:  "10.0.0.5",
		User:     "admin",
		KeyFiles: []string{keyPath},
		Sudo:     true,
		HostKey:  "", // first use: OnHostKey records it
		OnHostKey: func(key string) error {
			fmt.Println("record in state:", key)
			return nil
		},
		Jump:     &remote.Config{Name: "bastion", Address: "203.0.113.7", User: "admin", KeyFiles: []string{keyPath}},
		RetryFor: 5 * time.Minute,
	})
	if err != nil {
		fmt.Println(err) // *remote.HostKeyChangedError when the key changed
		return
	}

	runLog, err := remote.OpenRunLog(".diffuser/glusterfs/runs/20260101T000000Z-0a1b/logs")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer runLog.Close()
	log := runLog.Log("brick_mount", "node-1")
	cmd := "mount " + remote.ShellQuote("/dev/sdb1") + " /bricks/b1"
	_ = log.Begin(cmd)
	res, err := c.Run(ctx, cmd, runner.Options{Timeout: time.Minute, Output: log})
	_ = log.End(res.Exit, err)
}
