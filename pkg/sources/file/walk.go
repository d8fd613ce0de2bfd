package file

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// entry is one configuration file found in the directory.
type entry struct {
	rel  string // relative to the directory, with forward slashes: the origin shown to users
	path string // as found, possibly through symlinks
	real string // in the real directory, as watch events name it
	info os.FileInfo
}

// listing is one walk of the directory tree.
type listing struct {
	files []entry
	dirs  []string // real paths of every directory walked, for the watcher
}

// isConfigFile says which names are read: YAML and JSON, but not hidden files (which also
// skips Kubernetes' ..data mount internals) nor editor backups and swap files.
func isConfigFile(name string) bool {
	if strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") {
		return false
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// list walks root, following symlinks (ConfigMap mounts are symlinks into a ..data
// directory that Kubernetes swaps atomically). Each real directory is walked once, which
// also stops symlink loops. An unreadable root is an error; an unreadable subdirectory or a
// dangling symlink is skipped.
func list(root string) (listing, error) {
	var l listing
	if _, err := os.Stat(root); err != nil {
		return l, fmt.Errorf("read config directory: %w", err)
	}
	seen := map[string]bool{}
	var walk func(dir, rel string, top bool) error
	walk = func(dir, rel string, top bool) error {
		real, err := filepath.EvalSymlinks(dir)
		if err != nil || seen[real] {
			return nil
		}
		seen[real] = true
		l.dirs = append(l.dirs, real)
		ents, err := os.ReadDir(dir)
		if err != nil {
			if top {
				return fmt.Errorf("read config directory: %w", err)
			}
			return nil
		}
		for _, de := range ents {
			name := de.Name()
			if strings.HasPrefix(name, ".") {
				continue
			}
			path := filepath.Join(dir, name)
			info, err := os.Stat(path) // follows symlinks
			if err != nil {
				continue
			}
			r := name
			if rel != "" {
				r = rel + "/" + name
			}
			switch {
			case info.IsDir():
				if err := walk(path, r, false); err != nil {
					return err
				}
			case info.Mode().IsRegular() && isConfigFile(name):
				l.files = append(l.files, entry{rel: r, path: path, real: filepath.Join(real, name), info: info})
			}
		}
		return nil
	}
	return l, walk(root, "", true)
}
