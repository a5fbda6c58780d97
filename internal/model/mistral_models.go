package model

import "strings"

// knownModel is one of Mistral's public model names.
type knownModel struct {
	id   string
	ctx  int
	caps []string
}

// mistralModels are the names routed to Mistral when a Mistral key is set
// and listed by /v1/models. Other names with a Mistral family prefix are
// routed too (see IsMistralModelName) but not listed.
var mistralModels = []knownModel{
	{"mistral-large-latest", 131072, []string{"function_calling", "vision"}},
	{"mistral-medium-latest", 131072, []string{"function_calling", "vision"}},
	{"mistral-small-latest", 131072, []string{"function_calling", "vision"}},
	{"magistral-medium-latest", 131072, []string{"function_calling", "reasoning"}},
	{"magistral-small-latest", 131072, []string{"function_calling", "reasoning"}},
	{"codestral-latest", 256000, []string{"function_calling", "completion_fim"}},
	{"devstral-medium-latest", 131072, []string{"function_calling"}},
	{"devstral-small-latest", 131072, []string{"function_calling"}},
	{"ministral-3b-latest", 131072, []string{"function_calling"}},
	{"ministral-8b-latest", 131072, []string{"function_calling"}},
	{"open-mistral-nemo", 131072, []string{"function_calling"}},
	{"pixtral-large-latest", 131072, []string{"function_calling", "vision"}},
	{"pixtral-12b-latest", 131072, []string{"function_calling", "vision"}},
	{"mistral-saba-latest", 32768, []string{"function_calling"}},
	{"mistral-embed", 8192, []string{"embedding"}},
	{"codestral-embed", 8192, []string{"embedding"}},
	{"mistral-moderation-latest", 8192, []string{"embedding", "moderation"}},
}

// mistralFamilies are the name prefixes of Mistral's models.
var mistralFamilies = []string{
	"mistral-", "open-mistral-", "open-mixtral-", "codestral-", "ministral-",
	"magistral-", "pixtral-", "devstral-", "voxtral-",
}

// IsMistralModelName reports whether name is one of Mistral's model names:
// a well-known name, or a name with a Mistral family prefix such as
// "mistral-small-2506".
func IsMistralModelName(name string) bool {
	for _, m := range mistralModels {
		if m.id == name {
			return true
		}
	}
	for _, p := range mistralFamilies {
		if strings.HasPrefix(name, p) && len(name) > len(p) {
			return true
		}
	}
	return false
}

// MistralModelNames returns the well-known Mistral model names.
func MistralModelNames() []string {
	out := make([]string, len(mistralModels))
	for i, m := range mistralModels {
		out[i] = m.id
	}
	return out
}
