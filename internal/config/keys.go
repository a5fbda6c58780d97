package config

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Sections are the top-level keys of the config file that subsystems read
// with [Section]. A top-level key that is neither a [Config] field nor
// listed here is rejected at load time, so that a typo does not silently
// leave a setting at its default. A subsystem that adds a section lists
// it here (Section refuses unlisted names).
var Sections = []string{
	"providers", "models", // model routing (internal/model)
	"rate_limits",                                        // internal/ratelimit
	"web_search", "image_generation", "code_interpreter", // built-in connectors
	"moderation", // guardrails and /v1/moderations (internal/moderation)
	"connectors", // MCP connectors (internal/connector)
}

// topLevelKeys returns the keys a config file may have at its top level.
func topLevelKeys() []string {
	keys := append(append([]string(nil), Sections...), yamlKeys(reflect.TypeOf(Config{}))...)
	sort.Strings(keys)
	return keys
}

// yamlKeys returns the YAML keys of struct type t, those of its inline
// fields (such as ScaleOut's) included.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")
		switch {
		case len(tag) > 1 && slices.Contains(tag[1:], "inline"):
			keys = append(keys, yamlKeys(t.Field(i).Type)...)
		case tag[0] != "" && tag[0] != "-":
			keys = append(keys, tag[0])
		}
	}
	return keys
}

// checkTopLevel rejects unknown top-level keys of a config file.
func checkTopLevel(raw []byte) error {
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return err
	}
	known := topLevelKeys()
	var unknown []string
	for k := range doc {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return fmt.Errorf("unknown top-level key %q (known keys: %s; see docs/configuration.md)",
		strings.Join(unknown, `", "`), strings.Join(known, ", "))
}
