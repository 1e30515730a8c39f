package state

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// replaceFile makes data the content of dir/name, atomically and durably:
// it writes a temporary file beside the target, fsyncs it, renames it over
// the target and fsyncs the directory. At every instant dir/name is either
// the old complete file or the new one. When backup is not empty the old
// file is first kept as dir/backup (see keepBackup).
func replaceFile(dir, name string, data []byte, backup string) (os.FileInfo, error) {
	dst := filepath.Join(dir, name)
	tmp, err := os.CreateTemp(dir, name+tmpInfix+"*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("create temporary file for %s: %w", dst, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return nil, fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("fsync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if backup != "" {
		if err := keepBackup(dir, name, backup); err != nil {
			return nil, err
		}
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return nil, fmt.Errorf("replace %s: %w", dst, err)
	}
	renamed = true
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	fi, err := os.Stat(dst)
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", dst, err)
	}
	return fi, nil
}

// keepBackup makes dir/backup a copy of the current dir/name, if there is
// one, without ever leaving dir/name missing: it hard-links (or, where links
// are not supported, copies and fsyncs) name to a temporary name and renames
// that over backup. The directory fsync that follows the caller's rename
// makes the link durable.
func keepBackup(dir, name, backup string) error {
	src := filepath.Join(dir, name)
	dst := filepath.Join(dir, backup)
	tmp := dst + tmpInfix + "link"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove leftover %s: %w", tmp, err)
	}
	if err := os.Link(src, tmp); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // nothing to back up yet
		}
		if err := copyFile(src, tmp); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return fmt.Errorf("back up %s: %w", src, err)
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("back up %s: %w", src, err)
	}
	return nil
}

// copyFile copies src to a new file dst (0600) and fsyncs it.
func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(dst)
		}
	}()
	if _, err := io.Copy(out, in); err != nil {
		return err
	}
	return out.Sync()
}

// syncDir fsyncs a directory so that renames and links in it survive a
// crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// removeTemps deletes temporary files a crashed writer left in dir. Only
// call it while holding the lock: another writer's temporary file would be
// deleted from under it otherwise.
func removeTemps(dir string) {
	leftovers, _ := filepath.Glob(filepath.Join(dir, "*"+tmpInfix+"*"))
	for _, p := range leftovers {
		_ = os.Remove(p)
	}
}
