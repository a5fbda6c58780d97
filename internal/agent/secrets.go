package agent

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tramontane/tramontane/internal/apierr"
)

// SecretMask is what responses show in place of a connector tool's
// authorization value. Sent back unchanged in an update (as clients do when
// they read an agent, change it and write it back), it keeps the stored
// value.
const SecretMask = "********"

// SealedPrefix marks an authorization value sealed for storage (see
// ConnectorChecker.SealAuthorization): the database never holds it in clear.
const SealedPrefix = "tramontane-sealed:"

// authValue returns the value of an authorization object ("" if none).
func authValue(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var a struct {
		Value string `json:"value"`
	}
	_ = json.Unmarshal(raw, &a)
	return a.Value
}

// withAuthValue returns raw with its value replaced.
func withAuthValue(raw json.RawMessage, value string) json.RawMessage {
	var a map[string]any
	if err := json.Unmarshal(raw, &a); err != nil || a == nil {
		return raw
	}
	a["value"] = value
	out, err := json.Marshal(a)
	if err != nil {
		return raw
	}
	return out
}

// MaskTools returns tools with every authorization value replaced by
// SecretMask (a copy: tools is not modified).
func MaskTools(tools []Tool) []Tool {
	var out []Tool
	for i, t := range tools {
		if authValue(t.Authorization) == "" {
			continue
		}
		if out == nil {
			out = append([]Tool(nil), tools...)
		}
		out[i].Authorization = withAuthValue(t.Authorization, SecretMask)
	}
	if out == nil {
		return tools
	}
	return out
}

// keepSecrets gives each connector tool of next whose authorization value
// is SecretMask the stored authorization of the same connector in prev; a
// masked value with nothing to keep is a 422.
func keepSecrets(loc string, next, prev []Tool) error {
	for i, t := range next {
		if authValue(t.Authorization) != SecretMask {
			continue
		}
		found := false
		for _, p := range prev {
			if p.Type == "connector" && p.ConnectorID == t.ConnectorID && authValue(p.Authorization) != "" {
				next[i].Authorization, found = p.Authorization, true
				break
			}
		}
		if !found {
			return apierr.Field(fmt.Sprintf("%s.%d.authorization.value", loc, i), "value_error",
				"%q is the mask responses show in place of a secret; send the secret itself", SecretMask)
		}
	}
	return nil
}

// sealTools seals, in place, the authorization values of tools that are
// not sealed yet.
func sealTools(c ConnectorChecker, ws string, tools []Tool) error {
	for i, t := range tools {
		v := authValue(t.Authorization)
		if v == "" || strings.HasPrefix(v, SealedPrefix) {
			continue
		}
		sealed, err := c.SealAuthorization(ws, t.ConnectorID, v)
		if err != nil {
			return err
		}
		tools[i].Authorization = withAuthValue(t.Authorization, sealed)
	}
	return nil
}
