package testsvc

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Server is a private S3-compatible server: the Versity S3 Gateway
// (versitygw) on its POSIX backend, an Apache-2.0 S3 server also run in
// production, installed by scripts/install-deps.sh.
type S3Server struct {
	// Endpoint is its http://127.0.0.1:port URL.
	Endpoint string
	// AccessKey and SecretKey are its root account's.
	AccessKey, SecretKey string
	// Bucket exists, empty, when S3 returns.
	Bucket string
}

// S3 starts versitygw on a free 127.0.0.1 port with a fresh directory, for
// the duration of the test, and creates one bucket.
func S3(t testing.TB) S3Server {
	t.Helper()
	bin := binary(t, "versitygw", "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0")
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	if err := os.Mkdir(root, 0o700); err != nil {
		t.Fatal(err)
	}
	s := S3Server{
		Endpoint:  "http://127.0.0.1:" + strconv.Itoa(port),
		AccessKey: "tramontane-test",
		SecretKey: "tramontane-test-secret-0123456789",
		Bucket:    "tramontane-test",
	}
	logFile, err := os.Create(filepath.Join(dir, "versitygw.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--port", "127.0.0.1:"+strconv.Itoa(port), "posix", root)
	// Credentials by environment, not argv (ps shows argv).
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+s.AccessKey, "ROOT_SECRET_ACCESS_KEY="+s.SecretKey)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logFile.Close()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	waitListening(t, "versitygw", addr, logFile.Name())
	c, err := minio.New(addr, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.MakeBucket(context.Background(), s.Bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("versitygw: create bucket: %v", err)
	}
	return s
}
