package httpapi_test

import (
	"net/http/httptest"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// moreAgents adds three agents to alpha: "Gamma Ray" (metadata tier=1),
// "gamma" and "delta", and sets {G} to the first.
func moreAgents(t testing.TB, e *env) {
	e.vars["G"] = e.createAgent(asA, `{"model":"m2","name":"Gamma Ray","metadata":{"tier":1,"team":"blue"}}`)
	e.createAgent(asA, `{"model":"m1","name":"gamma"}`)
	d := e.createAgent(asA, `{"model":"m1","name":"delta"}`)
	e.call("PATCH", "/v1/agents/"+d, asA, `{"deployment_chat":true}`, 200)
}

// names returns the sorted names of a list of agents.
func names(t testing.TB, rec *httptest.ResponseRecorder) []string {
	t.Helper()
	out := []string{}
	for _, a := range decode[[]obj](t, rec) {
		out = append(out, a["name"].(string))
	}
	sort.Strings(out)
	return out
}

func wantNames(want ...string) func(*testing.T, *env, *httptest.ResponseRecorder) {
	return func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
		t.Helper()
		if want == nil {
			want = []string{}
		}
		sort.Strings(want)
		if got := names(t, rec); !reflect.DeepEqual(got, want) {
			t.Errorf("names %v, want %v", got, want)
		}
	}
}

func TestAgentList(t *testing.T) {
	all := wantNames("alpha-agent", "Gamma Ray", "gamma", "delta")
	q := url.QueryEscape
	list := func(name, query string, check func(*testing.T, *env, *httptest.ResponseRecorder)) scenario {
		return scenario{Name: name, Method: "GET", URL: "/v1/agents" + query, Setup: moreAgents, Status: 200, Check: check}
	}
	bad := func(name, query string, loc ...any) scenario {
		return scenario{Name: name, Method: "GET", URL: "/v1/agents" + query, Status: 422, ErrLoc: loc}
	}
	runScenarios(t, []scenario{
		list("all of the workspace only", "", all),
		list("SDK defaults", "?page=0&page_size=20", all),
		list("empty workspace is an empty array", "?name=nobody", func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
			if rec.Body.String() != "[]\n" {
				t.Errorf("body %q, want []", rec.Body.String())
			}
		}),
		list("name is exact", "?name=gamma", wantNames("gamma")),
		list("search is a case-insensitive substring", "?search=GAMMA", wantNames("Gamma Ray", "gamma")),
		list("search by id", "?search={G}", wantNames("Gamma Ray")),
		list("id filter", "?id={A}", wantNames("alpha-agent")),
		list("id of another workspace", "?id={B}", wantNames()),
		list("metadata filter", "?metadata="+q(`{"team":"red"}`), wantNames("alpha-agent")),
		list("metadata filter number", "?metadata="+q(`{"tier":1}`), wantNames("Gamma Ray")),
		list("metadata filter all keys", "?metadata="+q(`{"tier":1,"team":"red"}`), wantNames()),
		list("metadata filter no match", "?metadata="+q(`{"team":"green"}`), wantNames()),
		list("metadata empty object", "?metadata=%7B%7D", all),
		list("python sentinel raw", "?metadata=~?~unset~?~sentinel~?~", all),
		list("python sentinel JSON-quoted", "?metadata="+q(`"~?~unset~?~sentinel~?~"`), all),
		list("python sentinel encoded", "?page=0&page_size=20&metadata="+q("~?~unset~?~sentinel~?~"), all),
		list("sources api", "?sources=api", all),
		list("sources repeated", "?sources=playground&sources=api", all),
		list("sources other", "?sources=playground", wantNames()),
		list("deployment_chat true", "?deployment_chat=true", wantNames("delta")),
		list("deployment_chat false", "?deployment_chat=false", wantNames("alpha-agent", "Gamma Ray", "gamma")),
		list("page size", "?page_size=3", func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
			if n := len(decode[[]obj](t, rec)); n != 3 {
				t.Errorf("%d items, want 3", n)
			}
		}),
		list("pages are disjoint and complete", "?page_size=3&page=1", func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
			second := names(t, rec)
			first := names(t, e.request("GET", "/v1/agents?page_size=3&page=0", asA, nil, nil))
			if len(second) != 1 || len(first) != 3 {
				t.Fatalf("pages %v %v", first, second)
			}
			got := append(first, second...)
			sort.Strings(got)
			if !reflect.DeepEqual(got, []string{"Gamma Ray", "alpha-agent", "delta", "gamma"}) {
				t.Errorf("union of pages: %v", got)
			}
		}),
		list("newest first", "", func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
			if n := decode[[]obj](t, rec)[0]["name"]; n != "delta" {
				t.Errorf("first item %v, want the newest (delta)", n)
			}
		}),
		list("page past the end", "?page=5", wantNames()),
		bad("metadata not JSON", "?metadata=team", "query", "metadata"),
		bad("metadata a list", "?metadata=%5B1%5D", "query", "metadata"),
		bad("page_size zero", "?page_size=0", "query", "page_size"),
		bad("page_size too big", "?page_size=1001", "query", "page_size"),
		bad("page_size not a number", "?page_size=ten", "query", "page_size"),
		bad("page negative", "?page=-1", "query", "page"),
		bad("deployment_chat not a bool", "?deployment_chat=maybe", "query", "deployment_chat"),
	})
}

func TestAgentListPages(t *testing.T) {
	e := newEnv(t)
	want := map[string]bool{}
	for i := 0; i < 7; i++ {
		want[e.createAgent(asA, `{"model":"m1","name":"p`+strconv.Itoa(i)+`"}`)] = true
	}
	e.createAgent(asB, `{"model":"m1","name":"other"}`)

	// The TS SDK's iterator: follow next_page_token until it is null.
	seen := map[string]bool{}
	next, pages := "", 0
	for {
		u := "/v1/agents/pages?page_size=3&metadata=" + url.QueryEscape("~?~unset~?~sentinel~?~")
		if next != "" {
			u += "&page_token=" + url.QueryEscape(next)
		}
		page := e.callJSON("GET", u, asA, "", 200).(obj)
		pages++
		if page["object"] != "list" {
			t.Fatalf("object %v", page["object"])
		}
		tok, has := page["next_page_token"]
		if !has {
			t.Fatalf("next_page_token key missing: %v", page)
		}
		for _, a := range page["data"].([]any) {
			id := a.(obj)["id"].(string)
			if seen[id] {
				t.Fatalf("agent %s on two pages", id)
			}
			seen[id] = true
		}
		if tok == nil {
			if n := len(page["data"].([]any)); n != 1 {
				t.Errorf("last page has %d items, want 1", n)
			}
			break
		}
		next = tok.(string)
		if pages > 5 {
			t.Fatal("iteration does not end")
		}
	}
	if pages != 3 || !reflect.DeepEqual(seen, want) {
		t.Errorf("%d pages, saw %d of %d agents", pages, len(seen), len(want))
	}
	// An exact multiple of page_size ends with a null token, not an empty page.
	page := e.callJSON("GET", "/v1/agents/pages?page_size=7", asA, "", 200).(obj)
	if page["next_page_token"] != nil || len(page["data"].([]any)) != 7 {
		t.Errorf("page of exactly all: token %v, %d items", page["next_page_token"], len(page["data"].([]any)))
	}
	filtered := e.callJSON("GET", "/v1/agents/pages?name=p3", asA, "", 200).(obj)
	if len(filtered["data"].([]any)) != 1 {
		t.Errorf("filter on pages: %v", filtered)
	}
	empty := e.callJSON("GET", "/v1/agents/pages", asB, "", 200).(obj)
	if len(empty["data"].([]any)) != 1 {
		t.Errorf("workspace beta sees %v", empty["data"])
	}
	for _, tok := range []string{"garbage", "b246", url.QueryEscape("o:-5")} {
		checkLoc(t, e.call("GET", "/v1/agents/pages?page_token="+tok, asA, "", 422), []any{"query", "page_token"})
	}
	e.call("GET", "/v1/agents/pages?page_size=0", asA, "", 422)
	e.call("GET", "/v1/agents/pages?metadata=x", asA, "", 422)
}

func TestAgentVersionsAndAliases(t *testing.T) {
	versions := func(want ...float64) func(*testing.T, *env, *httptest.ResponseRecorder) {
		return func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
			var got []float64
			for _, a := range decode[[]obj](t, rec) {
				got = append(got, a["version"].(float64))
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("versions %v, want %v", got, want)
			}
		}
	}
	runScenarios(t, []scenario{
		{Name: "list versions newest first", Method: "GET", URL: "/v1/agents/{A}/versions", Status: 200, Check: versions(1, 0),
			Contains: []string{`"version_message":"second"`, `"version_message":"first"`}},
		{Name: "list versions page 1", Method: "GET", URL: "/v1/agents/{A}/versions?page=1&page_size=1", Status: 200, Check: versions(0)},
		{Name: "list versions past the end", Method: "GET", URL: "/v1/agents/{A}/versions?page=2&page_size=1", Status: 200, Check: versions()},
		{Name: "list versions page_size over 100", Method: "GET", URL: "/v1/agents/{A}/versions?page_size=101", Status: 422, ErrLoc: []any{"query", "page_size"}},
		{Name: "list versions page_size 0", Method: "GET", URL: "/v1/agents/{A}/versions?page_size=0", Status: 422, ErrLoc: []any{"query", "page_size"}},
		{Name: "list versions of another workspace", Method: "GET", URL: "/v1/agents/{B}/versions", Status: 404},
		{Name: "list versions of unknown agent", Method: "GET", URL: "/v1/agents/ag_x/versions", Status: 404},

		{Name: "get version", Method: "GET", URL: "/v1/agents/{A}/versions/0", Status: 200, Contains: []string{`"version":0`, `"instructions":"be brief"`}},
		{Name: "get version by alias", Method: "GET", URL: "/v1/agents/{A}/versions/prod", Status: 200, Contains: []string{`"version":0`}},
		{Name: "get unknown version", Method: "GET", URL: "/v1/agents/{A}/versions/5", Status: 404},
		{Name: "get version of another workspace", Method: "GET", URL: "/v1/agents/{B}/versions/0", Status: 404},

		{Name: "create alias", Method: "PUT", URL: "/v1/agents/{A}/aliases?alias=stable-1&version=1", Status: 200,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				al := decode[obj](t, rec)
				if al["alias"] != "stable-1" || al["version"] != 1.0 || al["created_at"] == nil || al["updated_at"] == nil {
					t.Errorf("alias response %v", al)
				}
				if v := e.callJSON("GET", "/v1/agents/"+e.vars["A"]+"?agent_version=stable-1", asA, "", 200).(obj)["version"]; v != 1.0 {
					t.Errorf("alias resolves to %v", v)
				}
			}},
		{Name: "re-point alias keeps created_at", Method: "PUT", URL: "/v1/agents/{A}/aliases?alias=prod&version=1", Status: 200,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				list := e.callJSON("GET", "/v1/agents/"+e.vars["A"]+"/aliases", asA, "", 200).([]any)
				if len(list) != 1 || list[0].(obj)["version"] != 1.0 {
					t.Fatalf("aliases after re-point: %v", list)
				}
				if got := decode[obj](t, rec); got["created_at"] != list[0].(obj)["created_at"] {
					t.Errorf("created_at changed: %v vs %v", got["created_at"], list[0].(obj)["created_at"])
				}
			}},
		{Name: "alias with capitals", Method: "PUT", URL: "/v1/agents/{A}/aliases?alias=Prod&version=0", Status: 422, ErrLoc: []any{"query", "alias"}},
		{Name: "alias ending with dash", Method: "PUT", URL: "/v1/agents/{A}/aliases?alias=prod-&version=0", Status: 422, ErrLoc: []any{"query", "alias"}},
		{Name: "alias starting with digit", Method: "PUT", URL: "/v1/agents/{A}/aliases?alias=1prod&version=0", Status: 422, ErrLoc: []any{"query", "alias"}},
		{Name: "alias too long", Method: "PUT", URL: "/v1/agents/{A}/aliases?alias=a" + strings.Repeat("x", 64) + "&version=0", Status: 422, ErrLoc: []any{"query", "alias"}},
		{Name: "alias missing", Method: "PUT", URL: "/v1/agents/{A}/aliases?version=0", Status: 422, ErrLoc: []any{"query", "alias"}},
		{Name: "alias version missing", Method: "PUT", URL: "/v1/agents/{A}/aliases?alias=x", Status: 422, ErrLoc: []any{"query", "version"}},
		{Name: "alias version not an int", Method: "PUT", URL: "/v1/agents/{A}/aliases?alias=x&version=one", Status: 422, ErrLoc: []any{"query", "version"}},
		{Name: "alias to unknown version", Method: "PUT", URL: "/v1/agents/{A}/aliases?alias=x&version=9", Status: 404},
		{Name: "alias on another workspace's agent", Method: "PUT", URL: "/v1/agents/{B}/aliases?alias=x&version=0", Status: 404},

		{Name: "list aliases", Method: "GET", URL: "/v1/agents/{A}/aliases", Status: 200, Contains: []string{`"alias":"prod"`, `"version":0`}},
		{Name: "list aliases empty", Method: "GET", URL: "/v1/agents/{B}/aliases", As: asB, Status: 200,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				if rec.Body.String() != "[]\n" {
					t.Errorf("body %q, want []", rec.Body.String())
				}
			}},
		{Name: "list aliases of another workspace", Method: "GET", URL: "/v1/agents/{B}/aliases", Status: 404},

		{Name: "delete alias", Method: "DELETE", URL: "/v1/agents/{A}/aliases?alias=prod", Status: 204,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				e.call("GET", "/v1/agents/"+e.vars["A"]+"?agent_version=prod", asA, "", 404)
				e.call("DELETE", "/v1/agents/"+e.vars["A"]+"/aliases?alias=prod", asA, "", 404)
			}},
		{Name: "delete alias missing param", Method: "DELETE", URL: "/v1/agents/{A}/aliases", Status: 422, ErrLoc: []any{"query", "alias"}},
		{Name: "delete unknown alias", Method: "DELETE", URL: "/v1/agents/{A}/aliases?alias=nope", Status: 404},
		{Name: "delete alias of another workspace", Method: "DELETE", URL: "/v1/agents/{A}/aliases?alias=prod", As: asB, Status: 404,
			Check: func(t *testing.T, e *env, rec *httptest.ResponseRecorder) {
				e.call("GET", "/v1/agents/"+e.vars["A"]+"?agent_version=prod", asA, "", 200)
			}},
	})
}
