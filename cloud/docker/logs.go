package docker

import (
	"context"
	"io"
	"strings"

	"github.com/moby/moby/client"
)

// logTail returns the last lines the container wrote, for error messages.
func (p *Provider) logTail(ctx context.Context, id string) string {
	rc, err := p.cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: "20"})
	if err != nil {
		return "(no logs: " + err.Error() + ")"
	}
	defer rc.Close()
	b, _ := io.ReadAll(io.LimitReader(rc, 8<<10))
	return strings.TrimSpace(stripStreamHeaders(b))
}

// stripStreamHeaders removes the 8-byte multiplexing headers of a non-TTY
// container's log stream.
func stripStreamHeaders(b []byte) string {
	var out strings.Builder
	for len(b) >= 8 && (b[0] == 1 || b[0] == 2) {
		n := int(b[4])<<24 | int(b[5])<<16 | int(b[6])<<8 | int(b[7])
		b = b[8:]
		n = min(n, len(b))
		out.Write(b[:n])
		b = b[n:]
	}
	out.Write(b)
	return out.String()
}
