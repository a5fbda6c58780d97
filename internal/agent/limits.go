package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/store"
)

// Documented limits of an agent or model conversation configuration
// (docs/reliability.md). Beyond them a request is a 422 that names the
// limit.
const (
	// MaxInstructionsBytes bounds instructions (256 KiB).
	MaxInstructionsBytes = 256 << 10
	// MaxTools bounds the tools of one agent or conversation.
	MaxTools = 128
	// MaxSchemaBytes bounds one function's parameters schema (64 KiB).
	MaxSchemaBytes = 64 << 10
	// MaxSchemaDepth bounds the nesting of a parameters schema.
	MaxSchemaDepth = 32
)

// ValidateInstructions checks the size of instructions.
func ValidateInstructions(loc string, instr *string) error {
	if instr != nil && len(*instr) > MaxInstructionsBytes {
		return apierr.Field(loc, "string_too_long", "instructions are %d bytes; the limit is %d bytes (max_instructions_bytes)", len(*instr), MaxInstructionsBytes)
	}
	return nil
}

// checkSchemaLimits bounds a parameters schema's size and nesting before
// it is compiled.
func checkSchemaLimits(loc string, raw json.RawMessage) error {
	if len(raw) > MaxSchemaBytes {
		return apierr.Field(loc, "value_error", "parameters is %d bytes; the limit is %d bytes (max_schema_bytes)", len(raw), MaxSchemaBytes)
	}
	depth, max := 0, 0
	inString, escaped := false, false
	for _, c := range bytes.TrimSpace(raw) {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				max = depth
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	if max > MaxSchemaDepth {
		return apierr.Field(loc, "value_error", "parameters nests %d levels deep; the limit is %d (max_schema_depth)", max, MaxSchemaDepth)
	}
	return nil
}

// checkLibraries accepts document_library ids only for libraries the
// workspace can read: its own, or shared with it. (Sharing revoked later
// is handled when the tool runs.)
func (s *Service) checkLibraries(ctx context.Context, ws string, tools []Tool) error {
	for i, t := range tools {
		if t.Type != "document_library" {
			continue
		}
		for j, id := range t.LibraryIDs {
			loc := fmt.Sprintf("body.tools.%d.library_ids.%d", i, j)
			if _, err := uuid.Parse(id); err != nil {
				return apierr.Field(loc, "value_error", "library %q does not exist or is not shared with this workspace", id)
			}
			_, err := s.store.LibraryAccess(ctx, ws, id)
			if errors.Is(err, store.ErrNotFound) {
				return apierr.Field(loc, "value_error", "library %q does not exist or is not shared with this workspace", id)
			}
			if err != nil {
				return fmt.Errorf("checking library %s: %w", id, err)
			}
		}
	}
	return nil
}
