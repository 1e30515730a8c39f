package shell

import "fmt"

// OpenChecked is a shell condition that opens the file the shell variable
// name names (relative to the working directory) as descriptor fd, with
// redirect ("<" to read, ">>" to write), and holds when the name is a
// regular file with one link (with mine, of the user $me, which the script
// sets: steps.EnterDir does) by lstat, which does not follow links, and the
// descriptor is that same file (device and inode): a link or another file
// put at the name after the lstat is caught too. What the script then
// writes, truncates or chmods goes through /proc/self/fd/FD, never through
// the name. (command exec: a failing open fails the condition instead of
// ending the script, as a plain exec does in dash.)
func OpenChecked(name string, fd int, redirect string, mine bool) string {
	format, owner := "%F:%h:%d:%i", ""
	if mine {
		format, owner = "%F:%u:%h:%d:%i", "$me:"
	}
	return fmt.Sprintf(`{ id=$(stat -c '%[1]s' -- "$%[2]s" 2>/dev/null) && case $id in "regular file:%[3]s1:"*|"regular empty file:%[3]s1:"*) true ;; *) false ;; esac && command exec %[4]d%[5]s"$%[2]s" && [ "$(stat -L -c '%[1]s' /proc/self/fd/%[4]d)" = "$id" ]; }`,
		format, name, owner, fd, redirect)
}
