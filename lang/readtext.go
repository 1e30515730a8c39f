package lang

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// DirFS is the files of directory dir, for Source.FS: a recipe directory
// on this machine. Symbolic links inside it are followed only while they
// stay inside it (os.Root), so that no module source, recipe file, file()
// or templatefile() reads what lies outside through a link: a recipe
// directory is all one needs to copy, and all a recipe can read.
func DirFS(dir string) (fs.FS, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return root.FS(), nil
}

// describeReadErr says what went wrong reading name (relative to a
// recipe's directory) in words: DirFS refuses a link that leads outside
// the recipe's directory with an error that names neither.
func describeReadErr(name string, err error) string {
	if escapesDir(err) {
		return fmt.Sprintf("%s is, or is inside, a symbolic link to outside the recipe's directory; only files inside it are read: copy what the link points to into the recipe's directory", name)
	}
	return err.Error()
}

// escapesDir says whether err is DirFS refusing a path that a symbolic
// link leads outside the directory.
func escapesDir(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "path escapes from parent")
}

// readText reads a recipe, site or variables file, or what file() and
// templatefile() name: a regular file only (reading a FIFO blocks until
// someone writes to it, a device such as /dev/zero never ends) and at most
// MaxFileSize+1 bytes of it, so that a larger file is refused (checkText)
// without being held in memory. size is the file's full size.
func readText(fsys fs.FS, name string) (b []byte, size int64, err error) {
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, 0, err
	}
	if err := regular(name, fi); err != nil {
		return nil, 0, err
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	return readLimited(f, fi)
}

// readOSText is readText for a path on this machine (site and variables
// files), with errors that keep the whole path.
func readOSText(path string) (b []byte, size int64, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	if err := regular(path, fi); err != nil {
		return nil, 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	return readLimited(f, fi)
}

func readLimited(r io.Reader, fi fs.FileInfo) ([]byte, int64, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, 0, err
	}
	return b, max(fi.Size(), int64(len(b))), nil
}

// regular refuses anything but a regular file (symlinks are followed).
func regular(name string, fi fs.FileInfo) error {
	m := fi.Mode()
	if m.IsRegular() {
		return nil
	}
	what := "not a regular file"
	switch {
	case m.IsDir():
		what = "a directory"
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	case m&fs.ModeCharDevice != 0:
		what = "a character device"
	case m&fs.ModeDevice != 0:
		what = "a block device"
	}
	return fmt.Errorf("%s is %s; only regular files are read", name, what)
}

// unixNewlines turns CRLF line ends into LF before a recipe, site or
// variables file is parsed: a file saved on Windows must not leave "\r" at
// the end of every line of a heredoc command (the shell on the host would
// read "systemctl start glusterd\r"). Lone "\r" stays (it may be meant).
func unixNewlines(b []byte) []byte {
	if !bytes.Contains(b, []byte("\r\n")) {
		return b
	}
	return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
}
