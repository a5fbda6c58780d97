package connector

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"

	"github.com/tramontane/tramontane/internal/agent"
)

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// FunctionName is the name under which the model sees the MCP tool tool of
// the connector named connector: "<connector>__<tool>", with characters
// other than A-Z, a-z, 0-9, '_' and '-' replaced by '_'. A name longer than
// 64 characters keeps its first 55 and ends with '_' and 8 hex digits of a
// hash of the full name, so it stays valid and distinct. Connector names
// are unique in a workspace, so two connectors never offer the same name.
func FunctionName(connector, tool string) string {
	full := connector + "__" + tool
	name := unsafeChars.ReplaceAllString(full, "_")
	if len(name) <= 64 {
		return name
	}
	sum := sha256.Sum256([]byte(full))
	return name[:55] + "_" + hex.EncodeToString(sum[:4])
}

// selected reports whether an MCP tool passes a tool_configuration's include
// and exclude lists. Both accept the MCP tool's own name or the function name
// the model sees.
func selected(tc *agent.ToolConfiguration, tool, fn string) bool {
	if tc == nil {
		return true
	}
	in := func(list []string) bool { return slices.Contains(list, tool) || slices.Contains(list, fn) }
	if len(tc.Include) > 0 && !in(tc.Include) {
		return false
	}
	return !in(tc.Exclude)
}

// needsConfirmation reports whether requires_confirmation names the tool.
func needsConfirmation(tc *agent.ToolConfiguration, tool, fn string) bool {
	return tc != nil && (slices.Contains(tc.RequiresConfirmation, tool) || slices.Contains(tc.RequiresConfirmation, fn))
}
