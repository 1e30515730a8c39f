package engine

import (
	"context"
	"io"
	"os"

	"diffuser/remote"
	"diffuser/steps"
)

// loggedRunner writes every command and its output to a step instance's
// log file. For sensitive steps it writes neither the command nor its
// output, only exit statuses.
type loggedRunner struct {
	r         steps.Runner
	log       *remote.Log
	sensitive bool
}

func (l *loggedRunner) Run(ctx context.Context, cmd string, opt steps.RunOpts) (steps.Result, error) {
	shown := cmd
	if l.sensitive {
		shown = "(sensitive command hidden)"
	}
	_ = l.log.Begin(shown)
	if !l.sensitive {
		if opt.Output != nil {
			opt.Output = io.MultiWriter(opt.Output, l.log)
		} else {
			opt.Output = l.log
		}
	}
	res, err := l.r.Run(ctx, cmd, opt)
	_ = l.log.End(res.Exit, err)
	return res, err
}

func (l *loggedRunner) Upload(ctx context.Context, r io.Reader, path string, mode os.FileMode) error {
	_ = l.log.Begin("upload " + path)
	err := l.r.Upload(ctx, r, path, mode)
	_ = l.log.End(0, err)
	return err
}
