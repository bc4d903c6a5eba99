package migrate

import (
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hatago/hatago/query"
)

// SQL returns a migration function that runs statements, one or more SQL
// statements separated by semicolons, as they are (no bound values). A
// text of nothing but blanks and comments does nothing.
func SQL(statements string) func(ctx context.Context, tx *query.Tx) error {
	empty := blank(statements)
	return func(ctx context.Context, tx *query.Tx) error {
		if empty {
			return nil
		}
		_, err := tx.Exec(ctx, statements)
		return err
	}
}

// blank reports whether sql holds no statement: only white space, -- and
// /* */ comments and semicolons. (The SQLite driver fails on such a text,
// and an empty down file is the usual way to write a migration with
// nothing to undo.)
func blank(sql string) bool {
	for i := 0; i < len(sql); {
		switch {
		case sql[i] == ' ' || sql[i] == '\t' || sql[i] == '\n' || sql[i] == '\r' || sql[i] == '\f' || sql[i] == ';':
			i++
		case strings.HasPrefix(sql[i:], "--"):
			end := strings.IndexByte(sql[i:], '\n')
			if end < 0 {
				return true
			}
			i += end + 1
		case strings.HasPrefix(sql[i:], "/*"):
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				return false // let the database report the unclosed comment
			}
			i += 2 + end + 2
		default:
			return false
		}
	}
	return true
}

// fileName is the form of a migration file's name: VERSION_NAME.up.sql or
// VERSION_NAME.down.sql.
var fileName = regexp.MustCompile(`^([0-9]+)_(.+)\.(up|down)\.sql$`)

// FromFS reads the migrations in directory dir of fsys (an embed.FS, or
// os.DirFS for a directory on disk; dir "." for its root). Each migration
// is a pair of files, VERSION_NAME.up.sql and VERSION_NAME.down.sql, such
// as 20261122150405_create_users.up.sql or 0001_create_users.up.sql: the
// version is the leading digits (leading zeros do not count), the name
// what follows the first underscore. The down file may be left out, which
// makes the migration irreversible; an empty one does nothing. Each file's
// SQL runs as SQL does. Subdirectories and files not ending in .sql are
// ignored.
//
// It returns the migrations in version order, or an error wrapping
// ErrInvalid for a .sql file not named that way, two files for one version
// and direction (naming both), or a down file without an up file; or the
// error of reading dir.
func FromFS(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("hatago/migrate: read migrations: %w", err)
	}
	type pair struct {
		name     string
		up, down string // file names
		mg       Migration
	}
	byVersion := map[int64]*pair{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		file := path.Join(dir, e.Name())
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("%w: %s: want VERSION_NAME.up.sql or VERSION_NAME.down.sql", ErrInvalid, file)
		}
		version, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || version < 1 {
			return nil, fmt.Errorf("%w: %s: version %s is not a number from 1 to %d", ErrInvalid, file, m[1], int64(1<<63-1))
		}
		p := byVersion[version]
		if p == nil {
			p = &pair{name: m[2]}
			byVersion[version] = p
		}
		other := &p.up
		if m[3] == "down" {
			other = &p.down
		}
		switch {
		case *other != "":
			return nil, fmt.Errorf("%w: duplicate version %d: %s and %s", ErrInvalid, version, *other, file)
		case p.name != m[2]:
			prev := p.up + p.down
			return nil, fmt.Errorf("%w: duplicate version %d: %s and %s", ErrInvalid, version, prev, file)
		}
		*other = file
		b, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("hatago/migrate: read migrations: %w", err)
		}
		p.mg.Version, p.mg.Name = version, m[2]
		if m[3] == "up" {
			p.mg.Up = SQL(string(b))
		} else {
			p.mg.Down = SQL(string(b))
		}
	}
	migrations := make([]Migration, 0, len(byVersion))
	for _, p := range byVersion {
		if p.up == "" {
			return nil, fmt.Errorf("%w: %s has no %s", ErrInvalid, p.down, strings.TrimSuffix(path.Base(p.down), ".down.sql")+".up.sql")
		}
		migrations = append(migrations, p.mg)
	}
	slices.SortFunc(migrations, func(a, b Migration) int { return cmp.Compare(a.Version, b.Version) })
	return migrations, nil
}
