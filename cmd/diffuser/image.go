package main

import (
	"fmt"

	"diffuser/cloud"
	"diffuser/cloud/docker"
	"diffuser/lang"
	"diffuser/workspace"

	"github.com/spf13/cobra"
)

func (a *app) imageBuildCmd() *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "build",
		Short: "Build the docker provider's node image now (otherwise it is built on first use)",
		Long: `build makes the node image local clusters run: Debian with systemd and sshd, from a
Dockerfile when the base image is available, else with debootstrap from the machine's
Debian mirror and docker import. The image is tagged by a digest of its inputs, so it is
built once and reused. Settings come from the site file's provider "docker" block.`,
		Example: "  diffuser image build\n  diffuser image build -site diffuser.hcl -force",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var pb *lang.ProviderBlock
			sitePath := a.flags.site
			if sitePath != "" {
				site, err := workspace.LoadSite(sitePath)
				if err != nil {
					return err
				}
				pb = site.Providers["docker"]
			}
			settings, diags := pb.Settings(docker.Factory{}.Spec(), "")
			if diags.HasErrors() {
				return fmt.Errorf("docker settings: %s", diags.Error())
			}
			p, err := docker.New(cmd.Context(), settings, cloud.Env{WorkDir: a.flags.dataDir, Log: func(f string, args ...any) {
				fmt.Fprintf(a.stderr, f+"\n", args...)
			}})
			if err != nil {
				return err
			}
			build := p.EnsureImage
			if force {
				build = p.BuildImage
			}
			tag, err := build(cmd.Context(), a.stdout)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Node image ready: %s\n", tag)
			return nil
		},
	}
	c.Flags().StringVar(&a.flags.site, "site", "", "site file with a provider \"docker\" block")
	c.Flags().BoolVar(&force, "force", false, "build even when an image with the same inputs exists")
	return c
}
