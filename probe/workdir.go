package probe

import (
	"context"
	"sync"
	"time"

	"diffuser/lang"
	"diffuser/runner"
)

// workDir is the directory a measurement made on one client: dir holds its
// files, base is the run's directory under the measured path. r is nil
// for a client that could not be reached.
type workDir struct {
	r         runner.Runner
	dir, base string
}

// removeWorkDirs removes every client's files, and the run's directory
// when it is empty, on all clients at once. It uses a context of its own
// (ctx's values, not its cancellation) bounded by timeout, so that an
// interrupted bench still cleans up.
func removeWorkDirs(ctx context.Context, timeout time.Duration, dirs []workDir) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, d := range dirs {
		if d.r == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = d.r.Run(cctx, "rm -rf "+lang.ShellQuote(d.dir)+"; rmdir "+lang.ShellQuote(d.base)+" 2>/dev/null; true", runner.Options{})
		}()
	}
	wg.Wait()
}
