// Package s3test runs a real S3-compatible server for tests: versitygw (an
// S3 gateway in Go, Apache-2.0) over a temporary directory, whose binary
// SAFEGUARD_TEST_S3_VERSITYGW names (.ci/run builds one). A test calling
// Start skips, saying so, where it is unset, as the PostgreSQL tests do.
package s3test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// The root account's credentials.
const (
	Access = "safeguard-test"
	Secret = "safeguard-test-secret"
)

// Server is a versitygw a test started; the test's end stops it.
type Server struct {
	Endpoint string        // host:port, plain HTTP
	Admin    *minio.Client // as the root account, to look behind the store's back
	stop     func()
}

var buckets atomic.Int64

// Start starts versitygw over a fresh directory, or skips the test.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin := os.Getenv("SAFEGUARD_TEST_S3_VERSITYGW")
	if bin == "" {
		tb.Skip("SAFEGUARD_TEST_S3_VERSITYGW is unset: set it to a versitygw binary (.ci/run builds one) to test evidence in S3")
	}
	addr := FreeAddr(tb)
	cmd := exec.Command(bin, "--access", Access, "--secret", Secret, "--port", addr, "--quiet", "posix", tb.TempDir())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		tb.Fatalf("starting versitygw %s: %v", bin, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop := func() {
		select {
		case <-done:
			return
		default:
		}
		cmd.Process.Kill()
		<-done
	}
	tb.Cleanup(stop)
	for deadline := time.Now().Add(20 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-done:
			tb.Fatalf("versitygw exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("versitygw did not listen on %s: %s", addr, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	admin, err := minio.New(addr, &minio.Options{Creds: credentials.NewStaticV4(Access, Secret, "")})
	if err != nil {
		tb.Fatal(err)
	}
	return &Server{Endpoint: addr, Admin: admin, stop: stop}
}

// Stop stops the server before the test's end: a server gone down.
func (s *Server) Stop() { s.stop() }

// FreeAddr returns a loopback address nothing listens on (now).
func FreeAddr(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Bucket makes a new bucket and returns its name.
func (s *Server) Bucket(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("evidence-%d", buckets.Add(1))
	if err := s.Admin.MakeBucket(context.Background(), name, minio.MakeBucketOptions{}); err != nil {
		tb.Fatal(err)
	}
	return name
}

// URL returns the evidence URL of bucket and prefix on s, and sets the
// standard AWS variables to the root account's credentials for the test.
func (s *Server) URL(tb testing.TB, bucket, prefix string) string {
	tb.Setenv("AWS_ACCESS_KEY_ID", Access)
	tb.Setenv("AWS_SECRET_ACCESS_KEY", Secret)
	return fmt.Sprintf("s3://%s/%s?endpoint=http://%s", bucket, prefix, s.Endpoint)
}
