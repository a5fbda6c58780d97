package sqlstore

import (
	"net/url"
	"path/filepath"
	"strings"
)

// Location describes the database that Open(dbURL, dataDir) uses, for the
// CLI to print: "SQLite database <absolute path>" or "PostgreSQL database
// <db> on <host>" (never the password). path is the SQLite file, or "" for
// PostgreSQL.
func Location(dbURL, dataDir string) (desc, path string) {
	if IsPostgres(dbURL) {
		u, err := url.Parse(dbURL)
		if err != nil {
			return "PostgreSQL database (unparsable URL)", ""
		}
		return "PostgreSQL database " + strings.TrimPrefix(u.Path, "/") + " on " + u.Host, ""
	}
	path = strings.TrimPrefix(dbURL, "sqlite://")
	if path == "" {
		path = filepath.Join(dataDir, "tramontane.db")
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return "SQLite database " + path, path
}
