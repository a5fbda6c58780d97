package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"

	"gopkg.in/yaml.v3"
)

// Section decodes the top-level key name of a YAML config file into dst,
// rejecting unknown keys so that typos surface. Subsystems (rate limits,
// connectors, libraries) read their own sections with it. It reports
// whether the section was present; errors are prefixed with its name.
func Section(raw []byte, name string, dst any) (bool, error) {
	if !slices.Contains(Sections, name) {
		return false, fmt.Errorf("config: section %q is not listed in config.Sections", name)
	}
	if len(raw) == 0 {
		return false, nil
	}
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return false, fmt.Errorf("%s: %w", name, err)
	}
	node, ok := doc[name]
	if !ok || node.Kind == 0 {
		return false, nil
	}
	section, err := yaml.Marshal(&node)
	if err != nil {
		return true, fmt.Errorf("%s: %w", name, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(section))
	dec.KnownFields(true)
	if err := dec.Decode(dst); err != nil && !errors.Is(err, io.EOF) {
		return true, fmt.Errorf("%s: %w", name, err)
	}
	return true, nil
}
