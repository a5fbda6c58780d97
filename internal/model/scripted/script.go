package scripted

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Script is a parsed script file. See the package documentation.
type Script struct {
	Rules   []Rule `yaml:"rules" json:"rules"`
	Default *Rule  `yaml:"default,omitempty" json:"default,omitempty"`
}

// Rule is one rule: conditions, then actions.
type Rule struct {
	Name string `yaml:"name,omitempty" json:"name,omitempty"`

	Match   Patterns `yaml:"match,omitempty" json:"match,omitempty"`
	On      string   `yaml:"on,omitempty" json:"on,omitempty"`
	Tool    Patterns `yaml:"tool,omitempty" json:"tool,omitempty"`
	System  Patterns `yaml:"system,omitempty" json:"system,omitempty"`
	Offered Patterns `yaml:"offered,omitempty" json:"offered,omitempty"`
	Model   Patterns `yaml:"model,omitempty" json:"model,omitempty"`
	Times   int      `yaml:"times,omitempty" json:"times,omitempty"`

	Reply           string     `yaml:"reply,omitempty" json:"reply,omitempty"`
	ToolCalls       []CallSpec `yaml:"tool_calls,omitempty" json:"tool_calls,omitempty"`
	Handoff         string     `yaml:"handoff,omitempty" json:"handoff,omitempty"`
	Error           *ErrorSpec `yaml:"error,omitempty" json:"error,omitempty"`
	DelayMS         int        `yaml:"delay_ms,omitempty" json:"delay_ms,omitempty"`
	FinishReason    string     `yaml:"finish_reason,omitempty" json:"finish_reason,omitempty"`
	FailAfterChunks int        `yaml:"fail_after_chunks,omitempty" json:"fail_after_chunks,omitempty"`
}

// CallSpec is a tool call a rule makes.
type CallSpec struct {
	Name string `yaml:"name" json:"name"`
	// Arguments is an object (encoded as JSON) or a string of JSON.
	Arguments any    `yaml:"arguments,omitempty" json:"arguments,omitempty"`
	ID        string `yaml:"id,omitempty" json:"id,omitempty"`
}

// ErrorSpec makes a rule fail the call.
type ErrorSpec struct {
	Status  int    `yaml:"status" json:"status"`
	Message string `yaml:"message,omitempty" json:"message,omitempty"`
	// RetryAfter is sent as Retry-After, in seconds.
	RetryAfter int `yaml:"retry_after,omitempty" json:"retry_after,omitempty"`
}

// Pattern is one compiled pattern: a case-insensitive substring, or a
// regular expression when written with the "re:" prefix.
type Pattern struct {
	raw string
	lit string
	re  *regexp.Regexp
}

// Patterns is a list of patterns; in a script it is a string or a list.
type Patterns []Pattern

// NewPattern compiles one pattern.
func NewPattern(s string) (Pattern, error) {
	if rest, ok := strings.CutPrefix(s, "re:"); ok {
		re, err := regexp.Compile("(?i)" + rest)
		if err != nil {
			return Pattern{}, fmt.Errorf("pattern %q: %w", s, err)
		}
		return Pattern{raw: s, re: re}, nil
	}
	return Pattern{raw: s, lit: strings.ToLower(s)}, nil
}

// String returns the pattern as written.
func (p Pattern) String() string { return p.raw }

// Find reports whether s matches and returns the regex captures (the
// whole match first), if any.
func (p Pattern) Find(s string) (bool, []string) {
	if p.re != nil {
		m := p.re.FindStringSubmatch(s)
		return m != nil, m
	}
	return strings.Contains(strings.ToLower(s), p.lit), nil
}

// Exact reports whether s equals the pattern (case-insensitively) or, for
// a regex, matches it.
func (p Pattern) Exact(s string) bool {
	if p.re != nil {
		return p.re.MatchString(s)
	}
	return strings.EqualFold(s, p.raw)
}

func (ps *Patterns) set(list []string) error {
	out := make(Patterns, 0, len(list))
	for _, s := range list {
		p, err := NewPattern(s)
		if err != nil {
			return err
		}
		out = append(out, p)
	}
	*ps = out
	return nil
}

// UnmarshalYAML accepts a string or a list of strings.
func (ps *Patterns) UnmarshalYAML(n *yaml.Node) error {
	var list []string
	if n.Kind == yaml.ScalarNode {
		list = []string{n.Value}
	} else if err := n.Decode(&list); err != nil {
		return fmt.Errorf("line %d: want a string or a list of strings", n.Line)
	}
	return ps.set(list)
}

// UnmarshalJSON accepts a string or a list of strings.
func (ps *Patterns) UnmarshalJSON(b []byte) error {
	var list []string
	var one string
	if json.Unmarshal(b, &one) == nil {
		list = []string{one}
	} else if err := json.Unmarshal(b, &list); err != nil {
		return errors.New("want a string or a list of strings")
	}
	return ps.set(list)
}

// MarshalYAML writes the patterns as a list of strings.
func (ps Patterns) MarshalYAML() (any, error) { return ps.strings(), nil }

// MarshalJSON writes the patterns as a list of strings.
func (ps Patterns) MarshalJSON() ([]byte, error) { return json.Marshal(ps.strings()) }

func (ps Patterns) strings() []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.raw
	}
	return out
}

// Load reads and parses a script file.
func Load(path string) (*Script, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scripted model: %w", err)
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("scripted model script %s: %w", path, err)
	}
	return s, nil
}

// Parse parses a script from YAML or JSON text and checks it. Unknown
// keys are errors, so typos surface.
func Parse(data []byte) (*Script, error) {
	var s Script
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Validate checks every rule.
func (s *Script) Validate() error {
	for i := range s.Rules {
		if err := s.Rules[i].validate(); err != nil {
			return fmt.Errorf("rules[%d]%s: %w", i, label(s.Rules[i].Name), err)
		}
	}
	if s.Default != nil {
		if err := s.Default.validate(); err != nil {
			return fmt.Errorf("default: %w", err)
		}
	}
	return nil
}

func label(name string) string {
	if name == "" {
		return ""
	}
	return " (" + name + ")"
}

func (r *Rule) validate() error {
	switch r.On {
	case "", "user", "tool", "any":
	default:
		return fmt.Errorf("on must be user or tool, not %q", r.On)
	}
	if r.Times < 0 || r.DelayMS < 0 || r.FailAfterChunks < 0 {
		return errors.New("times, delay_ms and fail_after_chunks must not be negative")
	}
	for j, c := range r.ToolCalls {
		if c.Name == "" {
			return fmt.Errorf("tool_calls[%d]: name is required", j)
		}
		if str, ok := c.Arguments.(string); ok && !strings.Contains(str, "{{") && !json.Valid([]byte(str)) {
			return fmt.Errorf("tool_calls[%d]: arguments string is not valid JSON", j)
		}
		if _, err := encodeArgs(c.Arguments, nil); err != nil {
			return fmt.Errorf("tool_calls[%d]: %w", j, err)
		}
	}
	if r.Error != nil && (r.Error.Status < 400 || r.Error.Status > 599) {
		return fmt.Errorf("error.status must be an HTTP error status (400-599), not %d", r.Error.Status)
	}
	if r.Error == nil && r.Reply == "" && len(r.ToolCalls) == 0 && r.Handoff == "" {
		return errors.New("a rule needs reply, tool_calls, handoff or error")
	}
	return nil
}

// encodeArgs renders call arguments as JSON text, substituting templates
// in string values with subst (if not nil).
func encodeArgs(v any, subst func(string) string) (string, error) {
	if v == nil {
		return "{}", nil
	}
	if s, ok := v.(string); ok {
		if subst != nil {
			s = subst(s)
		}
		return s, nil
	}
	v, err := walk(v, subst)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("arguments: %w", err)
	}
	return string(b), nil
}

// walk copies a decoded YAML value, normalising maps to string keys and
// applying subst to strings.
func walk(v any, subst func(string) string) (any, error) {
	switch t := v.(type) {
	case string:
		if subst != nil {
			return subst(t), nil
		}
		return t, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			y, err := walk(x, subst)
			if err != nil {
				return nil, err
			}
			out[k] = y
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			y, err := walk(x, subst)
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(k)] = y
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			y, err := walk(x, subst)
			if err != nil {
				return nil, err
			}
			out[i] = y
		}
		return out, nil
	default:
		return v, nil
	}
}
