package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func (a *app) imageBuildCmd() *cobra.Command {
	return &cobra.Command{
		Use: "build", Short: "Build the docker provider's node image now (it is built on first use otherwise)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("the docker provider is not built into this binary yet")
		},
	}
}
