package model

import "strings"

// HandoffPrefix starts the name of every handoff tool.
const HandoffPrefix = "transfer_to_"

// maxToolName is the longest function name upstreams accept.
const maxToolName = 64

// HandoffToolName is the name of the function tool through which the model
// hands the conversation to the agent called agentName: "transfer_to_"
// followed by a slug of the name (lowercase; every run of characters
// outside [a-z0-9_] becomes one "_"; repeated "_" collapsed; leading and
// trailing "_" trimmed; cut so the whole name is at most 64 characters). An
// empty slug becomes "agent". Two agents whose names slug alike get the
// same tool name; the engine must detect that.
func HandoffToolName(agentName string) string {
	var b strings.Builder
	underscore := true // suppress leading "_"
	for _, r := range strings.ToLower(agentName) {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		if ok {
			b.WriteRune(r)
			underscore = false
			continue
		}
		if !underscore {
			b.WriteByte('_')
			underscore = true
		}
	}
	slug := b.String()
	if max := maxToolName - len(HandoffPrefix); len(slug) > max {
		slug = slug[:max]
	}
	slug = strings.Trim(slug, "_")
	if slug == "" {
		slug = "agent"
	}
	return HandoffPrefix + slug
}

// IsHandoffToolName reports whether name has the handoff tool prefix.
func IsHandoffToolName(name string) bool {
	return strings.HasPrefix(name, HandoffPrefix) && len(name) > len(HandoffPrefix)
}
