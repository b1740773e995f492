// Package s3 keeps evidence files in S3-compatible object storage (Amazon
// S3, MinIO, Ceph, versitygw, …), so every server of an installation reads
// the items any of them kept, whatever store the rest of its state is in.
//
// It only keeps bytes: the evidence package seals every item before it
// gets here (encrypted under its own data key, authenticated with its
// header), so the bucket's operator learns nothing of the content and
// cannot change a byte of it unseen.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/safeguard-oss/safeguard/internal/derrors"
	"github.com/safeguard-oss/safeguard/internal/evidence"
)

// PartSize is the most of one file a Write holds in memory (twice, at
// worst: the part it is reading and the part it is sending). A file larger
// than one part is sent as a multipart upload, a part at a time; 5 MiB is
// the least S3 takes for any part but the last.
const PartSize = 8 << 20

// Timeouts of one operation: the evidence package's methods take no
// context. A write may be a large item over a slow link.
const (
	opTimeout    = time.Minute
	writeTimeout = 10 * time.Minute
)

// Files is evidence.Files in a bucket, each file an object named
// PREFIX+name. S3 writes objects whole (a PUT, or a multipart upload
// completed, is the whole object or nothing) and durably (acknowledged
// once stored), which is what Files asks of Write.
type Files struct {
	client *minio.Client
	bucket string
	prefix string // "" or ending in "/"
	where  string // for errors: "s3://bucket/prefix at endpoint"
}

var _ evidence.Files = (*Files)(nil)

// Open returns the Files of rawURL, of the form
//
//	s3://BUCKET[/PREFIX][?endpoint=HOST[:PORT]][&region=REGION]
//
// where the endpoint is Amazon S3's unless given; "http://HOST:PORT" as
// the endpoint speaks plain HTTP (a server on loopback or a private
// network), anything else HTTPS. Credentials come from the standard AWS
// variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)
// or else the shared credentials file (AWS_SHARED_CREDENTIALS_FILE,
// AWS_PROFILE), never from the URL, which appears in logs and process
// lists. Open makes no request: a bucket that is missing or unreachable
// shows in Ready and in each operation's error.
func Open(rawURL string) (*Files, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("evidence url: %w", err)
	}
	if u.Scheme != "s3" {
		return nil, fmt.Errorf("evidence url %q: want s3://BUCKET/PREFIX", rawURL)
	}
	if u.User != nil {
		return nil, fmt.Errorf("evidence url s3://%s: credentials do not belong in the URL: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", u.Host)
	}
	if err := s3utils.CheckValidBucketNameStrict(u.Host); err != nil {
		return nil, fmt.Errorf("evidence url: bucket %q: %v", u.Host, err)
	}
	prefix := strings.Trim(u.Path, "/")
	if prefix != "" {
		prefix += "/"
	}
	q := u.Query()
	for k := range q {
		if k != "endpoint" && k != "region" {
			return nil, fmt.Errorf("evidence url: unknown parameter %q: want endpoint or region", k)
		}
	}
	endpoint, secure := q.Get("endpoint"), true
	switch {
	case endpoint == "":
		endpoint = "s3.amazonaws.com"
	case strings.HasPrefix(endpoint, "http://"):
		endpoint, secure = strings.TrimPrefix(endpoint, "http://"), false
	case strings.HasPrefix(endpoint, "https://"):
		endpoint = strings.TrimPrefix(endpoint, "https://")
	}
	if endpoint == "" || strings.ContainsAny(endpoint, "/?#") {
		return nil, fmt.Errorf("evidence url: endpoint %q: want HOST[:PORT], or http://HOST:PORT for plain HTTP", q.Get("endpoint"))
	}
	creds := credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.FileAWSCredentials{},
	})
	client, err := minio.New(endpoint, &minio.Options{
		Creds:  creds,
		Secure: secure,
		Region: q.Get("region"),
		// A server that is down should answer 503 within seconds, not
		// after minio-go's default ten tries.
		MaxRetries: 3,
	})
	if err != nil {
		return nil, fmt.Errorf("evidence url: %w", err)
	}
	scheme := "https"
	if !secure {
		scheme = "http"
	}
	return &Files{
		client: client,
		bucket: u.Host,
		prefix: prefix,
		where:  fmt.Sprintf("s3://%s/%s at %s://%s", u.Host, prefix, scheme, endpoint),
	}, nil
}

// String names the bucket, prefix and endpoint (no credentials).
func (f *Files) String() string { return f.where }

// Write implements evidence.Files. A file that fits one part goes in one
// PUT; a larger one streams as a multipart upload, which S3 shows only
// once complete, so a reader sees the old object or the new, never part.
func (f *Files) Write(name string, r io.Reader) error {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	// minio-go streams a reader of unknown length as a multipart upload
	// always (three requests for the smallest file): read one part first
	// to see which this is.
	buf := make([]byte, PartSize)
	n, err := io.ReadFull(r, buf)
	var body io.Reader
	size := int64(n)
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		body = bytes.NewReader(buf[:n])
	case err != nil:
		return err
	default:
		body, size = io.MultiReader(bytes.NewReader(buf), r), -1
	}
	_, err = f.client.PutObject(ctx, f.bucket, f.prefix+name, body, size, minio.PutObjectOptions{
		PartSize:    PartSize,
		ContentType: "application/octet-stream",
	})
	return f.fault("writing", name, err)
}

// Open implements evidence.Files; the object is read as the caller reads.
func (f *Files) Open(name string) (io.ReadCloser, evidence.FileInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	obj, err := f.client.GetObject(ctx, f.bucket, f.prefix+name, minio.GetObjectOptions{})
	if err != nil {
		cancel()
		return nil, evidence.FileInfo{}, f.fault("reading", name, err)
	}
	info, err := obj.Stat()
	if err != nil {
		obj.Close()
		cancel()
		return nil, evidence.FileInfo{}, f.fault("reading", name, err)
	}
	return &object{Object: obj, cancel: cancel}, evidence.FileInfo{Size: info.Size, Written: info.LastModified.UTC()}, nil
}

// object is an open object that ends its request's context when closed.
type object struct {
	*minio.Object
	cancel context.CancelFunc
}

func (o *object) Close() error {
	err := o.Object.Close()
	o.cancel()
	return err
}

// Remove implements evidence.Files; S3 answers success for a missing
// object, as Remove should.
func (f *Files) Remove(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	return f.fault("removing", name, f.client.RemoveObject(ctx, f.bucket, f.prefix+name, minio.RemoveObjectOptions{}))
}

// Names implements evidence.Files: the objects directly under the prefix,
// less Ready's probes.
func (f *Files) Names() iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		for obj := range f.client.ListObjects(ctx, f.bucket, minio.ListObjectsOptions{Prefix: f.prefix}) {
			if obj.Err != nil {
				yield("", f.fault("listing", "", obj.Err))
				return
			}
			name := strings.TrimPrefix(obj.Key, f.prefix)
			if name == "" || strings.HasSuffix(name, "/") || strings.HasPrefix(name, probePrefix) {
				continue
			}
			if !yield(name, nil) {
				return
			}
		}
	}
}

const probePrefix = ".ready-"

// probeName is the probe object every server writes over: one name, so
// probes leave nothing behind however many servers run or crash.
const probeName = probePrefix + "probe"

// Ready writes a small probe object over the last one: the bucket is
// there, the credentials may write to it and the server answers. It is
// what /readyz and the operations metrics ask of the evidence store,
// through a cache (server's cachedProbe), so it must be cheap: one
// request (it was three: a write, a stat and a removal). What it does not
// prove, that the credentials may delete, the deletion of items past
// their hold reports when it fails.
func (f *Files) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	probe := make([]byte, 1<<10)
	if _, err := f.client.PutObject(ctx, f.bucket, f.prefix+probeName, bytes.NewReader(probe), int64(len(probe)), minio.PutObjectOptions{}); err != nil {
		return f.fault("writing", probeName, err)
	}
	return nil
}

// fault describes err, a failure of the operation op on file name: a
// missing object wraps fs.ErrNotExist, as Files asks; anything else (the
// bucket missing, the credentials refused, the server down or failing) is
// Unavailable, so a request that needed the evidence answers 503.
func (f *Files) fault(op, name string, err error) error {
	if err == nil {
		return nil
	}
	what := "evidence store " + f.where
	if name != "" {
		what = fmt.Sprintf("%s %s of %s", op, name, what)
	} else {
		what = op + " " + what
	}
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case minio.NoSuchKey:
		return fmt.Errorf("%s: %w", what, fs.ErrNotExist)
	case minio.NoSuchBucket:
		return unavailable{fmt.Errorf("%s: the bucket does not exist (create it, or correct --evidence-url): %w", what, err)}
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "ExpiredToken", "InvalidToken":
		return unavailable{fmt.Errorf("%s: the server refused the credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): %w", what, err)}
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return unavailable{fmt.Errorf("%s: the server did not answer: %w", what, err)}
	}
	return unavailable{fmt.Errorf("%s: %w", what, err)}
}

// unavailable is an error of kind derrors.Unavailable that keeps its cause.
type unavailable struct{ err error }

func (u unavailable) Error() string   { return u.err.Error() }
func (u unavailable) Unwrap() []error { return []error{u.err, derrors.Unavailable} }
