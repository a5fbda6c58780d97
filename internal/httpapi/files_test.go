package httpapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tramontane/tramontane/internal/config"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// blobCount counts stored blobs (files under data/files, temp files included).
func blobCount(t testing.TB, e *env) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(e.cfg.DataDir, "files"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFileUpload(t *testing.T) {
	e := newEnv(t)
	content := []byte("{\"q\":1}\n{\"q\":2}\n{\"q\":3}\n")
	rec := e.upload(asA, "dir/train.jsonl", content, map[string]string{"purpose": "fine-tune", "visibility": "workspace"})
	if rec.Code != 200 {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body.String())
	}
	checkContract(t, rec)
	f := decode[obj](t, rec)
	sum := sha256.Sum256(content)
	want := obj{"object": "file", "bytes": float64(len(content)), "filename": "train.jsonl", "purpose": "fine-tune",
		"sample_type": "instruct", "source": "upload", "num_lines": 3.0, "visibility": "workspace",
		"signature": hex.EncodeToString(sum[:]), "expires_at": nil}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("%s = %v, want %v", k, f[k], v)
		}
	}
	if !uuidRE.MatchString(f["id"].(string)) {
		t.Errorf("id %v is not a UUID", f["id"])
	}
	if c, ok := f["created_at"].(float64); !ok || time.Since(time.Unix(int64(c), 0)) > time.Minute {
		t.Errorf("created_at %v is not a recent unix time", f["created_at"])
	}
	if _, has := f["deleted"]; has {
		t.Errorf("upload response has deleted")
	}

	// A JSONL file whose last line has no newline still counts it.
	f = decode[obj](t, e.upload(asA, "x.jsonl", []byte("{}\n{}"), nil))
	if f["num_lines"] != 2.0 {
		t.Errorf("num_lines without final newline = %v, want 2", f["num_lines"])
	}
	// Not JSONL: no line count; mimetype from the part or the extension.
	f = decode[obj](t, e.upload(asA, "notes.txt", []byte("a\nb\n"), map[string]string{"purpose": "ocr", "expiry": "24"}))
	if f["num_lines"] != nil || f["purpose"] != "ocr" || !strings.HasPrefix(f["mimetype"].(string), "text/plain") {
		t.Errorf("txt upload: %v", f)
	}
	if exp, ok := f["expires_at"].(float64); !ok || exp-f["created_at"].(float64) != 24*3600 {
		t.Errorf("expires_at %v, want created_at + 24h", f["expires_at"])
	}
	// An empty file is fine.
	if rec := e.upload(asA, "empty.jsonl", []byte{}, nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"bytes":0`) {
		t.Errorf("empty upload: %d %s", rec.Code, rec.Body.String())
	}
	if n := blobCount(t, e); n != 4 {
		t.Errorf("%d blobs stored, want 4", n)
	}
}

func TestFileUploadErrors(t *testing.T) {
	big := bytes.Repeat([]byte("x"), testMaxUpload+1)
	cases := []struct {
		name   string
		body   func(t testing.TB) (*bytes.Buffer, string)
		who    string
		status int
	}{
		{"not multipart", func(t testing.TB) (*bytes.Buffer, string) {
			return bytes.NewBufferString(`{"file":"x"}`), "application/json"
		}, asA, 415},
		{"no content type", func(t testing.TB) (*bytes.Buffer, string) { return bytes.NewBufferString("x"), "" }, asA, 415},
		{"no file part", func(t testing.TB) (*bytes.Buffer, string) {
			return multipartBody(t, "", nil, map[string]string{"purpose": "batch"})
		}, asA, 422},
		{"two file parts", func(t testing.TB) (*bytes.Buffer, string) {
			var b bytes.Buffer
			b.WriteString("--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\na\r\n" +
				"--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b\"\r\n\r\nb\r\n--X--\r\n")
			return &b, "multipart/form-data; boundary=X"
		}, asA, 422},
		{"broken multipart", func(t testing.TB) (*bytes.Buffer, string) {
			return bytes.NewBufferString("--X\r\nnonsense"), "multipart/form-data; boundary=X"
		}, asA, 400},
		{"multipart without boundary", func(t testing.TB) (*bytes.Buffer, string) {
			return bytes.NewBufferString("x"), "multipart/form-data"
		}, asA, 400},
		{"bad expiry", func(t testing.TB) (*bytes.Buffer, string) {
			return multipartBody(t, "a.txt", []byte("a"), map[string]string{"expiry": "soon"})
		}, asA, 422},
		{"zero expiry", func(t testing.TB) (*bytes.Buffer, string) {
			return multipartBody(t, "a.txt", []byte("a"), map[string]string{"expiry": "0"})
		}, asA, 400},
		{"bad visibility", func(t testing.TB) (*bytes.Buffer, string) {
			return multipartBody(t, "a.txt", []byte("a"), map[string]string{"visibility": "world"})
		}, asA, 400},
		{"file over the limit", func(t testing.TB) (*bytes.Buffer, string) {
			return multipartBody(t, "big.bin", big, nil)
		}, asA, 413},
		{"body far over the limit", func(t testing.TB) (*bytes.Buffer, string) {
			return multipartBody(t, "big.bin", bytes.Repeat(big, 200), nil)
		}, asA, 413},
		{"no key", func(t testing.TB) (*bytes.Buffer, string) { return multipartBody(t, "a.txt", []byte("a"), nil) }, asNone, 401},
		{"revoked key", func(t testing.TB) (*bytes.Buffer, string) { return multipartBody(t, "a.txt", []byte("a"), nil) }, asRevoked, 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			body, ct := c.body(t)
			rec := e.request("POST", "/v1/files", c.who, body, map[string]string{"Content-Type": ct})
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body.String())
			}
			checkContract(t, rec)
			// A refused upload leaves nothing behind: no blob, no record.
			if n := blobCount(t, e); n != 0 {
				t.Errorf("%d blobs left behind", n)
			}
			list := e.callJSON("GET", "/v1/files", asA, "", 200).(obj)
			if list["total"] != 0.0 {
				t.Errorf("files after a refused upload: %v", list)
			}
		})
	}
	// The limit is inclusive.
	e := newEnv(t)
	if rec := e.upload(asA, "max.bin", big[:testMaxUpload], nil); rec.Code != 200 {
		t.Errorf("upload of exactly the limit: %d", rec.Code)
	}
}

func TestFileRoutes(t *testing.T) {
	runScenarios(t, []scenario{
		{Name: "list", Method: "GET", URL: "/v1/files", Status: 200,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				l := decode[obj](t, rec)
				data := l["data"].([]any)
				if l["object"] != "list" || l["total"] != 1.0 || len(data) != 1 || data[0].(obj)["id"] != e.vars["FA"] {
					t.Errorf("list: %v", l)
				}
				if _, has := data[0].(obj)["deleted"]; has {
					t.Errorf("list items carry deleted")
				}
			}},
		{Name: "list paging and total", Method: "GET", URL: "/v1/files?page=1&page_size=2", Status: 200,
			Setup: func(t testing.TB, e *env) {
				e.uploadID(asA, "b.jsonl", []byte("x"), map[string]string{"purpose": "batch"})
				e.uploadID(asA, "c.pdf", []byte("x"), map[string]string{"purpose": "ocr"})
			},
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				l := decode[obj](t, rec)
				if l["total"] != 3.0 || len(l["data"].([]any)) != 1 {
					t.Errorf("page 1 of 2: %v", l)
				}
			}},
		{Name: "list purpose filter", Method: "GET", URL: "/v1/files?purpose=batch", Status: 200,
			Setup: func(t testing.TB, e *env) {
				e.uploadID(asA, "b.jsonl", []byte("x"), map[string]string{"purpose": "batch"})
			},
			Contains: []string{`"total":1`, `"filename":"b.jsonl"`}, NotContains: []string{"train.jsonl"}},
		{Name: "list search filter", Method: "GET", URL: "/v1/files?search=TRAIN", Status: 200,
			Setup:    func(t testing.TB, e *env) { e.uploadID(asA, "other.txt", []byte("x"), nil) },
			Contains: []string{`"total":1`, `"filename":"train.jsonl"`}},
		{Name: "list sample_type and source filters", Method: "GET", URL: "/v1/files?sample_type=instruct&source=upload", Status: 200,
			Contains: []string{`"total":1`}},
		{Name: "list include_total=false", Method: "GET", URL: "/v1/files?include_total=false", Status: 200,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				if l := decode[obj](t, rec); l["total"] != nil || len(l["data"].([]any)) != 1 {
					t.Errorf("total must be null or absent: %v", l)
				}
			}},
		{Name: "list bad page_size", Method: "GET", URL: "/v1/files?page_size=0", Status: 422, ErrLoc: []any{"query", "page_size"}},
		{Name: "list bad include_total", Method: "GET", URL: "/v1/files?include_total=perhaps", Status: 422, ErrLoc: []any{"query", "include_total"}},

		{Name: "retrieve", Method: "GET", URL: "/v1/files/{FA}", Status: 200,
			Contains: []string{`"id":"{FA}"`, `"deleted":false`, `"num_lines":2`, `"object":"file"`}},
		{Name: "retrieve another workspace's file", Method: "GET", URL: "/v1/files/{FB}", Status: 404, NotContains: []string{"b.txt"}},
		{Name: "retrieve unknown file", Method: "GET", URL: "/v1/files/00000000-0000-4000-8000-000000000000", Status: 404},
		{Name: "retrieve malformed id", Method: "GET", URL: "/v1/files/not-a-uuid", Status: 404},

		{Name: "delete", Method: "DELETE", URL: "/v1/files/{FA}", Status: 200,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				d := decode[obj](t, rec)
				if len(d) != 3 || d["id"] != e.vars["FA"] || d["object"] != "file" || d["deleted"] != true {
					t.Errorf("delete response %v", d)
				}
				e.call("GET", "/v1/files/"+e.vars["FA"], asA, "", 404)
				e.call("GET", "/v1/files/"+e.vars["FA"]+"/content", asA, "", 404)
				e.call("DELETE", "/v1/files/"+e.vars["FA"], asA, "", 404)
				if n := blobCount(t, e); n != 1 { // beta's file remains
					t.Errorf("%d blobs after delete, want 1", n)
				}
			}},
		{Name: "delete another workspace's file", Method: "DELETE", URL: "/v1/files/{FB}", Status: 404,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				e.call("GET", "/v1/files/"+e.vars["FB"], asB, "", 200)
			}},

		{Name: "download", Method: "GET", URL: "/v1/files/{FA}/content", Status: 200,
			Headers: map[string]string{"Accept": "application/octet-stream"},
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				if ct := rec.Header().Get("Content-Type"); ct != "application/octet-stream" {
					t.Errorf("Content-Type %q", ct)
				}
				if cd := rec.Header().Get("Content-Disposition"); cd != `attachment; filename=train.jsonl` && cd != `attachment; filename="train.jsonl"` {
					t.Errorf("Content-Disposition %q", cd)
				}
				if rec.Body.String() != "{\"a\":1}\n{\"a\":2}\n" {
					t.Errorf("content %q", rec.Body.String())
				}
			}},
		{Name: "download another workspace's file", Method: "GET", URL: "/v1/files/{FB}/content", Status: 404},
		{Name: "download unknown file", Method: "GET", URL: "/v1/files/00000000-0000-4000-8000-000000000000/content", Status: 404},

		{Name: "signed url", Method: "GET", URL: "/v1/files/{FA}/url?expiry=1", Status: 200,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				u := decode[obj](t, rec)["url"].(string)
				if !strings.HasPrefix(u, "http://example.com/files/signed/"+e.vars["FA"]+"?") {
					t.Errorf("url %q", u)
				}
			}},
		{Name: "signed url uses public_url", Method: "GET", URL: "/v1/files/{FA}/url", Status: 200,
			Config:   func(c *config.Config) { c.PublicURL = "https://files.example.org/base/" },
			Contains: []string{`"url":"https://files.example.org/base/files/signed/{FA}?expires=`}},
		{Name: "signed url bad expiry", Method: "GET", URL: "/v1/files/{FA}/url?expiry=0", Status: 422, ErrLoc: []any{"query", "expiry"}},
		{Name: "signed url of another workspace's file", Method: "GET", URL: "/v1/files/{FB}/url", Status: 404},
	})
}

// TestSignedURL checks the public download link.
func TestSignedURL(t *testing.T) {
	e := newEnv(t)
	fixtures(t, e)
	link := e.callJSON("GET", "/v1/files/"+e.vars["FA"]+"/url", asA, "", 200).(obj)["url"].(string)
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	get := func(target string, want int) []byte {
		t.Helper()
		rec := e.request("GET", target, asNone, nil, nil)
		if rec.Code != want {
			t.Fatalf("GET %s: %d, want %d: %s", target, rec.Code, want, rec.Body.String())
		}
		checkContract(t, rec)
		return rec.Body.Bytes()
	}
	if got := get(u.RequestURI(), 200); string(got) != "{\"a\":1}\n{\"a\":2}\n" {
		t.Errorf("signed download: %q", got)
	}
	q := u.Query()
	sig, exp := q.Get("signature"), q.Get("expires")
	path := "/files/signed/" + e.vars["FA"]
	tampered := []string{
		path + "?expires=" + exp + "&signature=" + flip(sig),
		path + "?expires=" + exp + "1&signature=" + sig,
		path + "?expires=" + exp,
		path + "?signature=" + sig,
		path,
		"/files/signed/" + e.vars["FB"] + "?expires=" + exp + "&signature=" + sig, // another file
	}
	for _, target := range tampered {
		get(target, 401)
	}
	// An expired link, correctly signed, is refused.
	past := e.app.Handler.Files.Sign(e.vars["FA"], time.Now().Add(-time.Minute))
	get(path+"?"+past, 401)
	// A link to a deleted file is 404.
	e.call("DELETE", "/v1/files/"+e.vars["FA"], asA, "", 200)
	get(u.RequestURI(), 404)
}

func flip(s string) string {
	if s == "" {
		return "x"
	}
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

// TestFileUploadIsStreamed: the content reaches the blob store while the
// client is still sending, instead of being buffered whole first.
func TestFileUploadIsStreamed(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.MaxUploadBytes = 4 << 20 })
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	done := make(chan *httptest.ResponseRecorder)
	go func() {
		req := httptest.NewRequest("POST", "/v1/files", pr)
		req.Header.Set("Authorization", "Bearer "+e.keyA)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		done <- rec
	}()
	fw, err := mw.CreateFormFile("file", "stream.bin")
	if err != nil {
		t.Fatal(err)
	}
	half := bytes.Repeat([]byte("s"), 1<<20)
	if _, err := fw.Write(half); err != nil {
		t.Fatal(err)
	}
	// Wait (generously) until part of the first half is on disk.
	tmp := filepath.Join(e.cfg.DataDir, "files", "tmp")
	deadline := time.Now().Add(10 * time.Second)
	for {
		var size int64
		entries, _ := os.ReadDir(tmp)
		for _, d := range entries {
			if info, err := d.Info(); err == nil {
				size += info.Size()
			}
		}
		if size >= 512<<10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d bytes on disk while the client is mid-upload: the upload is buffered", size)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := fw.Write(half); err != nil {
		t.Fatal(err)
	}
	mw.Close()
	pw.Close()
	rec := <-done
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"bytes":2097152`) {
		t.Fatalf("streamed upload: %d %s", rec.Code, rec.Body.String())
	}
}

// TestDownloadFilenames: Content-Disposition carries the stored name, also
// when it needs quoting or is not ASCII.
func TestDownloadFilenames(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"plain.txt", "with space.txt", `quote"d.txt`, "données é.jsonl", "日本.txt"} {
		id := e.uploadID(asA, name, []byte("x"), nil)
		rec := e.request("GET", "/v1/files/"+id+"/content", asA, nil, nil)
		if rec.Code != 200 {
			t.Fatalf("%q: %d", name, rec.Code)
		}
		disp, params, err := mime.ParseMediaType(rec.Header().Get("Content-Disposition"))
		if err != nil || disp != "attachment" || params["filename"] != name {
			t.Errorf("%q: Content-Disposition %q (%v)", name, rec.Header().Get("Content-Disposition"), err)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("no nosniff on a download")
		}
	}
}
