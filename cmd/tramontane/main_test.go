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
