package connector

import (
	"fmt"
	"os"
	"regexp"
	"time"

	"github.com/tramontane/tramontane/internal/config"
)

// Config is the "connectors:" section of the config file.
type Config struct {
	// AllowPrivate lets API-created connectors reach private, loopback and
	// link-local addresses. Off by default (SSRF protection).
	AllowPrivate bool `yaml:"allow_private"`
	// AllowPrivateHosts lists "host:port" addresses that API-created
	// connectors may reach although they are private (one intranet MCP
	// server, without opening every private address).
	AllowPrivateHosts []string `yaml:"allow_private_hosts"`
	// Timeout bounds one MCP request (initialise, list tools, call).
	Timeout time.Duration `yaml:"timeout"`
	// MaxResultBytes bounds what one tool result keeps (the rest is cut).
	MaxResultBytes int `yaml:"max_result_bytes"`
	// ToolsTTL is how long a connector's tool list is cached.
	ToolsTTL time.Duration `yaml:"tools_ttl"`
	// Servers are operator-defined connectors.
	Servers []ServerConfig `yaml:"servers"`
	// SecretKey seals stored secrets (env TRAMONTANE_SECRET_KEY); empty
	// means a key generated once and kept in the database.
	SecretKey string `yaml:"secret_key"`
}

// ServerConfig is one operator-defined connector: a remote server (url) or a
// local process speaking MCP on stdio (command).
type ServerConfig struct {
	Name        string            `yaml:"name"`
	Title       string            `yaml:"title"`
	Description string            `yaml:"description"`
	URL         string            `yaml:"url"`
	Transport   string            `yaml:"transport"` // streamable (default) | sse
	Headers     map[string]string `yaml:"headers"`
	Command     string            `yaml:"command"`
	Args        []string          `yaml:"args"`
	Env         map[string]string `yaml:"env"`
	// Workspaces that see this connector, by id or name; "*" means all.
	Workspaces []string `yaml:"workspaces"`
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Load reads the connectors section of raw (a config file) and the
// TRAMONTANE_SECRET_KEY environment variable (getenv nil: os.Getenv).
func Load(raw []byte, getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := Config{Timeout: 30 * time.Second, MaxResultBytes: 100_000, ToolsTTL: 5 * time.Minute}
	if _, err := config.Section(raw, "connectors", &c); err != nil {
		return c, err
	}
	if v := getenv("TRAMONTANE_SECRET_KEY"); v != "" {
		c.SecretKey = v
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.MaxResultBytes <= 0 {
		c.MaxResultBytes = 100_000
	}
	if c.ToolsTTL <= 0 {
		c.ToolsTTL = 5 * time.Minute
	}
	seen := map[string]bool{}
	for i, s := range c.Servers {
		if !namePattern.MatchString(s.Name) {
			return c, fmt.Errorf("connectors.servers[%d]: name %q must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'", i, s.Name)
		}
		if seen[s.Name] {
			return c, fmt.Errorf("connectors.servers[%d]: name %q is used twice", i, s.Name)
		}
		seen[s.Name] = true
		if (s.URL == "") == (s.Command == "") {
			return c, fmt.Errorf("connectors.servers[%d] (%s): give exactly one of url or command", i, s.Name)
		}
		if s.Transport != "" && s.Transport != "streamable" && s.Transport != "sse" {
			return c, fmt.Errorf("connectors.servers[%d] (%s): transport must be streamable or sse", i, s.Name)
		}
		if len(s.Workspaces) == 0 {
			return c, fmt.Errorf("connectors.servers[%d] (%s): list the workspaces that may use it (names or ids, or \"*\")", i, s.Name)
		}
	}
	return c, nil
}
