package imagegen

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/tramontane/tramontane/internal/tool/fetch"
)

// ImageBackend generates images from prompts.
type ImageBackend interface {
	// Generate returns one image for prompt.
	Generate(ctx context.Context, prompt string) (*Image, error)
}

// Image is a generated image.
type Image struct {
	Data []byte
	// MIMEType is sniffed from Data, e.g. "image/png".
	MIMEType string
	// RevisedPrompt is the prompt the backend actually used, if it says.
	RevisedPrompt string
}

// Ext is the image's file extension without the dot ("png", "jpeg", ...).
func (im *Image) Ext() string {
	switch im.MIMEType {
	case "image/jpeg":
		return "jpg"
	case "image/webp":
		return "webp"
	case "image/gif":
		return "gif"
	case "image/bmp":
		return "bmp"
	}
	return "png"
}

// OpenAI is an OpenAI-compatible images backend (OpenAI, LocalAI, vLLM-
// omni, a ComfyUI bridge, ...): POST {BaseURL}/v1/images/generations.
type OpenAI struct {
	// BaseURL is the server's root, with or without a trailing /v1.
	BaseURL string
	// APIKey, if set, is sent as a Bearer token.
	APIKey string
	// Model is the model name; empty omits it.
	Model string
	// Size is the image size, e.g. "1024x1024"; empty omits it.
	Size string
	// MaxBytes caps the decoded image.
	MaxBytes int64
	// Client makes the API calls (and fetches image URLs on the backend's
	// own host). It must not be nil.
	Client *http.Client
	// Fetcher downloads image URLs on other hosts, under the SSRF policy.
	Fetcher *fetch.Client
}

// Endpoint is the generations URL derived from BaseURL.
func (o *OpenAI) Endpoint() string {
	base := strings.TrimRight(o.BaseURL, "/")
	if strings.HasSuffix(base, "/v1") {
		return base + "/images/generations"
	}
	return base + "/v1/images/generations"
}

// Generate implements ImageBackend.
func (o *OpenAI) Generate(ctx context.Context, prompt string) (*Image, error) {
	req := map[string]any{"prompt": prompt, "n": 1}
	if o.Model != "" {
		req["model"] = o.Model
	}
	if o.Size != "" {
		req["size"] = o.Size
	}
	// OpenAI's gpt-image models always answer in base64 and reject the
	// parameter; every other backend is asked for base64 explicitly.
	if !strings.HasPrefix(o.Model, "gpt-image") {
		req["response_format"] = "b64_json"
	}
	body, _ := json.Marshal(req)
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, o.Endpoint(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("image backend: %w", err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	if o.APIKey != "" {
		hr.Header.Set("Authorization", "Bearer "+o.APIKey)
	}
	resp, err := o.Client.Do(hr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("the image backend did not answer in time: %w", ctx.Err())
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("the image backend is unreachable: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, o.MaxBytes*4/3+(1<<20)))
	if err != nil {
		return nil, fmt.Errorf("image backend: reading the answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("the image backend answered HTTP %d: %s", resp.StatusCode, errorMessage(raw))
	}
	var out struct {
		Data []struct {
			B64JSON       string `json:"b64_json"`
			URL           string `json:"url"`
			RevisedPrompt string `json:"revised_prompt"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("the image backend returned an unreadable answer: %w", err)
	}
	if len(out.Data) == 0 {
		return nil, errors.New("the image backend returned no image")
	}
	d := out.Data[0]
	var data []byte
	switch {
	case d.B64JSON != "":
		data, err = decodeB64(d.B64JSON)
	case d.URL != "":
		data, err = o.download(ctx, d.URL)
	default:
		err = errors.New("the image backend returned neither b64_json nor url")
	}
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > o.MaxBytes {
		return nil, fmt.Errorf("the generated image is larger than %d bytes", o.MaxBytes)
	}
	mt := http.DetectContentType(data)
	if !strings.HasPrefix(mt, "image/") {
		return nil, fmt.Errorf("the image backend returned %s, not an image", mt)
	}
	return &Image{Data: data, MIMEType: mt, RevisedPrompt: d.RevisedPrompt}, nil
}

// decodeB64 decodes standard or URL-safe base64, with or without padding
// or a data: URI prefix.
func decodeB64(s string) ([]byte, error) {
	if strings.HasPrefix(s, "data:") {
		if i := strings.Index(s, ","); i >= 0 {
			s = s[i+1:]
		}
	}
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' {
			return -1
		}
		return r
	}, s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("the image backend returned invalid base64")
}

// download fetches an image URL. A URL on the backend's own host (LocalAI
// serves generated files there) is fetched like the API itself; any other
// goes through the SSRF-safe fetcher.
func (o *OpenAI) download(ctx context.Context, raw string) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("the image backend returned a bad URL: %w", err)
	}
	if base, err := url.Parse(o.BaseURL); err == nil && base.Host != "" && strings.EqualFold(base.Host, u.Host) && base.Scheme == u.Scheme {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, fmt.Errorf("image download: %w", err)
		}
		if o.APIKey != "" {
			req.Header.Set("Authorization", "Bearer "+o.APIKey)
		}
		resp, err := o.Client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("image download failed: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("image download answered HTTP %d", resp.StatusCode)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, o.MaxBytes+1))
		if err != nil {
			return nil, fmt.Errorf("image download failed: %w", err)
		}
		return data, nil // the size check is the caller's
	}
	if o.Fetcher == nil {
		return nil, errors.New("image URLs on other hosts cannot be fetched")
	}
	resp, err := o.Fetcher.Get(ctx, u.String(), "image/*")
	if err != nil {
		return nil, fmt.Errorf("image download failed: %w", err)
	}
	if resp.Truncated {
		return nil, fmt.Errorf("the generated image is larger than %d bytes", o.MaxBytes)
	}
	return resp.Body, nil
}

// errorMessage extracts an OpenAI-style {"error":{"message"}} (or a
// {"detail"} / {"message"}) from an error body, else a short excerpt.
func errorMessage(raw []byte) string {
	var e struct {
		Error   json.RawMessage `json:"error"`
		Detail  any             `json:"detail"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(raw, &e) == nil {
		var inner struct {
			Message string `json:"message"`
		}
		var s string
		switch {
		case json.Unmarshal(e.Error, &inner) == nil && inner.Message != "":
			return inner.Message
		case json.Unmarshal(e.Error, &s) == nil && s != "":
			return s
		case e.Message != "":
			return e.Message
		case e.Detail != nil:
			b, _ := json.Marshal(e.Detail)
			return string(b)
		}
	}
	s := strings.TrimSpace(string(raw))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
