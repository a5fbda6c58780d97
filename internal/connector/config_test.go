package connector

import (
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	env := func(string) string { return "" }
	c, err := Load(nil, env)
	if err != nil || c.Timeout != 30*time.Second || c.MaxResultBytes != 100_000 || c.AllowPrivate {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	c, err = Load([]byte("connectors:\n  allow_private_hosts: ['10.0.0.7:8000']\n  servers:\n    - {name: local, command: /bin/true, workspaces: ['*']}\n"),
		func(k string) string { return map[string]string{"TRAMONTANE_SECRET_KEY": "k-0123456789abcdef"}[k] })
	if err != nil || c.SecretKey != "k-0123456789abcdef" || len(c.Servers) != 1 || c.AllowPrivateHosts[0] != "10.0.0.7:8000" {
		t.Fatalf("file + env: %+v, %v", c, err)
	}
	for _, bad := range []struct{ yaml, want string }{
		{"connectors:\n  servers:\n    - {name: 'a b', url: 'http://x', workspaces: ['*']}\n", "name"},
		{"connectors:\n  servers:\n    - {name: a, workspaces: ['*']}\n", "exactly one of url or command"},
		{"connectors:\n  servers:\n    - {name: a, url: 'http://x', command: x, workspaces: ['*']}\n", "exactly one of url or command"},
		{"connectors:\n  servers:\n    - {name: a, url: 'http://x'}\n", "workspaces"},
		{"connectors:\n  servers:\n    - {name: a, url: 'http://x', workspaces: ['*']}\n    - {name: a, url: 'http://y', workspaces: ['*']}\n", "used twice"},
		{"connectors:\n  servers:\n    - {name: a, url: 'http://x', transport: ws, workspaces: ['*']}\n", "transport"},
		{"connectors:\n  allow_privat: true\n", "allow_privat"},
	} {
		if _, err := Load([]byte(bad.yaml), env); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v, want an error mentioning %q", bad.yaml, err, bad.want)
		}
	}
	if _, err := NewSealer("short"); err == nil {
		t.Error("a short secret key is accepted")
	}
}
