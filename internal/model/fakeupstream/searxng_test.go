package fakeupstream

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

type searxResults struct {
	Query   string `json:"query"`
	Results []struct {
		URL      string `json:"url"`
		Title    string `json:"title"`
		Content  string `json:"content"`
		Category string `json:"category"`
	} `json:"results"`
}

func TestSearXNGSearch(t *testing.T) {
	fs, base := newServer(t, Options{SearXNG: true, APIKey: "k"})
	resp, body := get(t, base+"/search?"+url.Values{"q": {"tramontane wind"}, "format": {"json"}}.Encode())
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("search: %d %s", resp.StatusCode, body)
	}
	var sr searxResults
	if err := json.Unmarshal([]byte(body), &sr); err != nil {
		t.Fatal(err)
	}
	// Two general pages plus a duplicate of the first; no news page.
	if sr.Query != "tramontane wind" || len(sr.Results) != 3 || sr.Results[0].URL != base+"/pages/1.html" ||
		sr.Results[1].URL != base+"/pages/2.html" || sr.Results[2].URL != sr.Results[0].URL {
		t.Fatalf("results = %s", body)
	}
	if sr.Results[0].Title != "The Tramontane wind" || sr.Results[0].Content == "" {
		t.Errorf("result 0 = %+v", sr.Results[0])
	}

	// News results with categories=general,news.
	_, body = get(t, base+"/search?q=x&format=json&categories=general%2Cnews")
	sr = searxResults{}
	_ = json.Unmarshal([]byte(body), &sr)
	if len(sr.Results) != 4 || sr.Results[2].URL != base+"/pages/3.html" || sr.Results[2].Category != "news" {
		t.Errorf("news results = %s", body)
	}

	// The JSON format must be asked for, like on a real instance.
	if resp, _ := get(t, base+"/search?q=x"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("without format=json: %d", resp.StatusCode)
	}
	if resp, _ := get(t, base+"/search?q=a+"+SearXNGErrorTrigger+"&format=json"); resp.StatusCode != 500 {
		t.Errorf("error trigger: %d", resp.StatusCode)
	}
	_, body = get(t, base+"/search?q="+SearXNGEmptyTrigger+"&format=json")
	sr = searxResults{}
	_ = json.Unmarshal([]byte(body), &sr)
	if len(sr.Results) != 0 || !strings.Contains(body, `"results":[]`) {
		t.Errorf("empty trigger: %s", body)
	}

	// Recorded with the query string; no bearer key needed for the fake web.
	var found bool
	for _, r := range fs.Requests() {
		if r.Path == "/search" && strings.Contains(r.Query, "categories=general%2Cnews") {
			found = true
		}
	}
	if !found {
		t.Errorf("search requests not recorded with their query: %+v", fs.Requests())
	}
}

func TestSearXNGPages(t *testing.T) {
	_, base := newServer(t, Options{SearXNG: true})
	for _, p := range FakePages {
		resp, body := get(t, base+p.Path)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: %d", p.Path, resp.StatusCode)
		}
		for _, want := range []string{"<title>" + p.Title, "<article>", "<nav", "<footer", "boilerplate-footer"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q", p.Path, want)
			}
		}
	}
	if resp, _ := get(t, base+"/pages/9.html"); resp.StatusCode != 404 {
		t.Errorf("unknown page: %d", resp.StatusCode)
	}
	_, plain := newServer(t, Options{})
	if resp, _ := get(t, plain+"/search?q=x&format=json"); resp.StatusCode != 404 {
		t.Errorf("search served without SearXNG: %d", resp.StatusCode)
	}
}

func TestImagesErrorTrigger(t *testing.T) {
	_, base := newServer(t, Options{Images: true})
	resp := post(t, base+"/v1/images/generations", `{"prompt":"a fox `+ImagesErrorTrigger+`"}`)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 500 || !strings.Contains(string(body), "the image backend failed") {
		t.Errorf("error trigger: %d %s", resp.StatusCode, body)
	}
}
