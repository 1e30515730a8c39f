package regfile

import (
	"diffuser/internal/shell"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// Read returns the content of the regular file at path (a symbolic link
// to one is followed). The file is opened without waiting (O_NONBLOCK), so
// that a named pipe there is refused instead of blocking until something
// writes to it. Anything but a regular file is a *NotRegularError; a file
// larger than limit bytes is refused without reading it. A missing file is
// the *fs.PathError of open (errors.Is(err, fs.ErrNotExist)).
func Read(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		// A socket cannot be opened at all (ENXIO): say what it is.
		if fi, serr := os.Stat(path); serr == nil && !fi.Mode().IsRegular() {
			return nil, &NotRegularError{Path: path, Kind: Kind(fi.Mode())}
		}
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, &NotRegularError{Path: path, Kind: Kind(fi.Mode())}
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d read there: is it the right file?", path, fi.Size(), limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s grew past the %d bytes read there while it was read", path, limit)
	}
	return b, nil
}

// NotRegularError is a path that holds something other than a regular
// file.
type NotRegularError struct {
	Path string
	Kind string // "a named pipe", "a directory", ...
}

func (e *NotRegularError) Error() string {
	if strings.HasSuffix(e.Kind, " device") {
		// /dev/zero given for a file: never advise removing a device.
		return fmt.Sprintf("%s is %s, not a regular file: name a regular file there instead", e.Path, e.Kind)
	}
	return fmt.Sprintf("%s is %s, not a regular file: remove it (rm %s) and put the file itself there", e.Path, e.Kind, shell.Quote(e.Path))
}

// Kind names the kind of file m is, with its article.
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "not a regular file"
}
