package main

import (
	"bytes"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCLIKeysLifecycle(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TRAMONTANE_CONFIG", "")
	t.Setenv("TRAMONTANE_DATABASE_URL", "")
	code, out, errs := runCLI(t, "keys", "create", "--data-dir", dir, "--name", "svc", "--workspace", "acme", "--rps", "2", "-q")
	key := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(key, "tk-") || len(key) < 30 || strings.Contains(key, "\n") {
		t.Fatalf("keys create -q: %d %q %q", code, out, errs)
	}
	code, out, _ = runCLI(t, "keys", "create", "--data-dir", dir, "--name", "other")
	if code != 0 || !strings.Contains(out, "shown only once") {
		t.Fatalf("keys create: %d %q", code, out)
	}
	code, out, _ = runCLI(t, "keys", "list", "--data-dir", dir, "--workspace", "acme")
	if code != 0 || !strings.Contains(out, "svc") || strings.Contains(out, "other") || strings.Contains(out, key) {
		t.Fatalf("keys list (acme) must show svc only, never the secret: %d %q", code, out)
	}
	code, _, _ = runCLI(t, "keys", "revoke", "--data-dir", dir, key[:10])
	if code != 0 {
		t.Fatalf("revoke by prefix: %d", code)
	}
	code, out, _ = runCLI(t, "keys", "list", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("list after revoke: %q", out)
	}
	if code, _, errs = runCLI(t, "keys", "revoke", "--data-dir", dir, "nope"); code == 0 || !strings.Contains(errs, "no active key") {
		t.Fatalf("revoke unknown: %d %q", code, errs)
	}
	if code, _, _ = runCLI(t, "keys", "create", "--data-dir", dir); code == 0 {
		t.Fatal("create without --name succeeded")
	}
}

func TestCLIMisc(t *testing.T) {
	t.Setenv("TRAMONTANE_CONFIG", "")
	t.Setenv("TRAMONTANE_DATABASE_URL", "")
	if code, out, _ := runCLI(t, "version"); code != 0 || !strings.HasPrefix(out, "tramontane ") {
		t.Errorf("version: %d %q", code, out)
	}
	if code, out, _ := runCLI(t, "migrate", "--data-dir", t.TempDir()); code != 0 || !strings.Contains(out, "sqlite") {
		t.Errorf("migrate: %d %q", code, out)
	}
	if code, _, errs := runCLI(t, "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Errorf("unknown command: %d %q", code, errs)
	}
	if code, _, _ := runCLI(t); code != 2 {
		t.Errorf("no command: %d", code)
	}
	if code, _, errs := runCLI(t, "serve", "--max-body-bytes", "lots"); code != 1 || !strings.Contains(errs, "MAX_BODY_BYTES") {
		t.Errorf("bad flag value: %d %q", code, errs)
	}
}

// Every command, and every keys action, answers --help with its own usage
// and flags on stdout and exit status 0.
func TestCLIHelp(t *testing.T) {
	t.Setenv("TRAMONTANE_CONFIG", "")
	for _, c := range commands {
		code, out, errs := runCLI(t, c.name, "--help")
		if code != 0 || !strings.Contains(out, "tramontane "+c.name) || errs != "" {
			t.Errorf("%s --help: %d %q %q", c.name, code, out, errs)
		}
	}
	code, out, _ := runCLI(t, "keys", "--help")
	if code != 0 || !strings.Contains(out, "create") || !strings.Contains(out, "revoke") {
		t.Errorf("keys --help: %d %q", code, out)
	}
	for _, action := range []string{"create", "list", "revoke"} {
		code, out, _ := runCLI(t, "keys", action, "--help")
		if code != 0 || !strings.Contains(out, "Usage: tramontane keys "+action) || !strings.Contains(out, "-data-dir") {
			t.Errorf("keys %s --help: %d %q", action, code, out)
		}
		// Server-only flags are not a keys action's.
		if strings.Contains(out, "-addr") || strings.Contains(out, "-upstream-url") {
			t.Errorf("keys %s --help lists server flags: %q", action, out)
		}
	}
	if code, out, _ := runCLI(t, "keys", "create", "--help"); !strings.Contains(out, "-name") || code != 0 {
		t.Errorf("keys create --help: %q", out)
	}
	if code, out, _ := runCLI(t, "serve", "--help"); code != 0 || !strings.Contains(out, "-addr") {
		t.Errorf("serve --help: %q", out)
	}
	if code, out, _ := runCLI(t, "--help"); code != 0 || !strings.Contains(out, "tramontane keys") {
		t.Errorf("--help: %q", out)
	}
}

// keys create names its missing flag; the keys commands say which database
// they use, and warn when they had to create it.
func TestCLIKeysDatabase(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TRAMONTANE_CONFIG", "")
	t.Setenv("TRAMONTANE_DATABASE_URL", "")
	code, _, errs := runCLI(t, "keys", "create", "--data-dir", dir)
	if code != 2 || !strings.Contains(errs, "--name is required") {
		t.Fatalf("create without --name: %d %q", code, errs)
	}
	if code, _, errs = runCLI(t, "keys", "list", "--data-dir", dir); code != 0 || !strings.Contains(errs, "created a new SQLite database "+dir) {
		t.Fatalf("first use: %d %q", code, errs)
	}
	code, out, errs := runCLI(t, "keys", "create", "--data-dir", dir, "--name", "svc", "-q")
	if code != 0 || !strings.Contains(errs, "using the SQLite database "+dir) || strings.Contains(out, "SQLite") {
		t.Fatalf("second use: %d %q %q", code, out, errs)
	}
	if code, _, errs = runCLI(t, "keys", "revoke", "--data-dir", dir); code != 2 || !strings.Contains(errs, "one key id") {
		t.Fatalf("revoke without a key: %d %q", code, errs)
	}
	if code, _, errs = runCLI(t, "keys", "frob"); code != 2 || !strings.Contains(errs, "unknown action") {
		t.Fatalf("unknown action: %d %q", code, errs)
	}
}
